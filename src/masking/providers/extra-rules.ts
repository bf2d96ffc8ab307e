/**
 * Provider token rules maintained by hand, next to the generated gitleaks rules and in the same
 * shape (GeneratedRule), run by the same matcher (match.ts) and checked by the same linear-time
 * test. They cover formats gitleaks lacks, or only finds next to a context keyword
 * ("mailgun … = key-…"), although the token's own prefix is distinctive enough: for these, a
 * keyword requirement only costs recall. The keyword here is the prefix itself.
 *
 * Each rule cites where its format is documented. Test values are generated at run time
 * (test/detector-gaps.test.ts), never written here.
 */
import type { GeneratedRule } from "./rule.ts";

/** Finding types introduced here (the others are generated or built-in types). */
export const EXTRA_TYPES = ["google_oauth_token"] as const;

const NONE: readonly never[] = [];

/** The hand-maintained rules (group 0: the whole match is the secret). */
export const EXTRA_RULES: readonly GeneratedRule[] = [
  {
    // Stripe webhook endpoint signing secrets, "whsec_…": docs.stripe.com/webhooks/signature
    // (the endpoint secret); GitGuardian lists the format as prefixed. Svix-style secrets are
    // base64 after the prefix.
    id: "stripe-webhook-secret",
    type: "stripe_key",
    regex: /(?<![A-Za-z0-9_])whsec_[A-Za-z0-9+/=]{24,128}/,
    keywords: ["whsec_"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Google OAuth 2.0 access tokens, "ya29.…" (service-account tokens "ya29.c.…"): variable
    // length up to Google's documented 2048-byte limit, padded with dots
    // (googleapis/google-api-nodejs-client#2839, "use the documented token size limits").
    id: "google-oauth-access-token",
    type: "google_oauth_token",
    regex: /(?<![\w.-])ya29\.[\w.-]{20,2048}/,
    keywords: ["ya29."],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // New Relic user keys start with "NRAK-" (docs.newrelic.com/docs/apis/intro-apis/
    // new-relic-api-keys; 27 upper-case letters and digits follow, as gitleaks' rule has it).
    id: "new-relic-user-key",
    type: "newrelic_token",
    regex: /(?<![A-Za-z0-9])NRAK-[A-Z0-9]{27}(?![A-Za-z0-9])/,
    keywords: ["nrak-"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Mailgun private API keys of the "key-" + 32 hex form (documentation.mailgun.com,
    // api-reference/authentication; GitGuardian: "Mailgun Primary Key", prefixed).
    id: "mailgun-key",
    type: "mailgun_token",
    regex: /(?<![\w-])key-[0-9a-f]{32}(?![0-9A-Za-z])/,
    keywords: ["key-"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Mailchimp API keys: 32 hex, "-", the data centre ("-us6"), which also names the API host
    // https://<dc>.api.mailchimp.com (mailchimp.com/developer, "API key … -us10").
    id: "mailchimp-key",
    type: "mailchimp_token",
    regex: /(?<![0-9A-Za-z])[0-9a-f]{32}-us[0-9]{1,2}(?![0-9A-Za-z])/,
    keywords: ["-us"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // OpenAI project, service-account and admin keys: "sk-proj-", "sk-svcacct-", "sk-admin-"
    // (platform.openai.com API keys; project keys are the documented default). gitleaks
    // requires the "T3BlbkFJ" marker inside and a fixed length; the prefixes alone are specific.
    id: "openai-prefixed-key",
    type: "openai_token",
    regex: /(?<![\w-])sk-(?:proj|svcacct|admin)-[\w-]{20,512}/,
    keywords: ["sk-proj-", "sk-svcacct-", "sk-admin-"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Doppler tokens: personal "dp.pt.", service "dp.st." (with the environment slug:
    // dp.st.<env>.<key>), service account "dp.sa.", CLI "dp.ct.", SCIM "dp.scim.", audit
    // "dp.audit." (docs.doppler.com/reference-link/api, token types).
    id: "doppler-token",
    type: "doppler_token",
    regex:
      /(?<![\w.])dp\.(?:pt|st|sa|ct|scim|audit)\.(?:[A-Za-z0-9_-]{1,64}\.)?[A-Za-z0-9]{40,64}(?![A-Za-z0-9])/,
    keywords: ["dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit."],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Telegram bot tokens: "<bot id>:<35 characters>", e.g. "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    // (core.telegram.org/bots, BotFather); every issued secret part starts "AA".
    id: "telegram-bot-token",
    type: "telegram_token",
    regex: /(?<![\w:])[0-9]{8,10}:AA[\w-]{33}(?![\w-])/,
    keywords: [":aa"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Discord webhook URLs https://discord.com/api/webhooks/<id>/<token> (also discordapp.com,
    // canary. and ptb., an API version): the token is the secret, the id is not.
    id: "discord-webhook-token",
    type: "discord_token",
    regex:
      /discord(?:app)?\.com\/api(?:\/v[0-9]{1,2})?\/webhooks\/[0-9]{15,21}\/([\w-]{60,100})(?![\w-])/,
    keywords: ["discord.com/api", "discordapp.com/api"],
    entropy: 3,
    group: 1,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Atlassian API tokens ("ATAT…", and "ATCT…" access tokens): Atlassian documents a varied
    // length ("we use a varied API token length rather than fixed length",
    // support.atlassian.com/atlassian-account/docs/manage-api-tokens-for-your-atlassian-account)
    // and Bamboo identifies a token by its "ATAT" prefix (BitbucketCloudApiTokenUtils). gitleaks
    // expects exactly 192 characters.
    id: "atlassian-token",
    type: "atlassian_token",
    // The "=" only inside (before the trailing checksum), so a token right after "key=" matches.
    regex: /(?<![\w-])AT(?:AT|CT)T3[\w-]{100,400}(?:=[\w-]{0,16})?/,
    keywords: ["atatt3", "atctt3"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // HashiCorp Vault tokens: service "hvs.", batch "hvb.", recovery "hvr." prefixes (Vault 1.10+,
    // developer.hashicorp.com/vault/docs/concepts/tokens, token prefixes). gitleaks expects
    // 90–120 characters after "hvs."; the length follows the token's encoded contents.
    id: "vault-prefixed-token",
    type: "vault_token",
    regex: /(?<![\w.-])hv[sbr]\.[\w-]{24,512}/,
    keywords: ["hvs.", "hvb.", "hvr."],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Hugging Face user access tokens: "hf_" and 34 characters (huggingface.co/docs/hub/
    // security-tokens). gitleaks accepts letters only; digits occur too.
    id: "huggingface-token",
    type: "huggingface_token",
    regex: /(?<![\w-])hf_[A-Za-z0-9]{34}(?![A-Za-z0-9])/,
    keywords: ["hf_"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
];
