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
export const EXTRA_TYPES = [
  "google_oauth_token",
  "groq_token",
  "xai_token",
  "openrouter_token",
  "langsmith_token",
  "pinecone_token",
  "docker_token",
  "circleci_token",
  "buildkite_token",
  "render_token",
  "neon_token",
  "resend_token",
  "posthog_token",
  "replicate_token",
  "supabase_token",
  "figma_token",
  "infisical_token",
  "firebase_token",
  "vercel_token",
] as const;

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
  {
    // Groq API keys, "gsk_" + 52 letters and digits (console.groq.com/keys).
    id: "groq-api-key",
    type: "groq_token",
    regex: /(?<![A-Za-z0-9_])gsk_[A-Za-z0-9]{48,56}(?![A-Za-z0-9])/,
    keywords: ["gsk_"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // xAI API keys, "xai-" + 80 letters and digits (docs.x.ai, API keys).
    id: "xai-api-key",
    type: "xai_token",
    regex: /(?<![A-Za-z0-9_-])xai-[A-Za-z0-9]{70,90}(?![A-Za-z0-9])/,
    keywords: ["xai-"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // OpenRouter API keys, "sk-or-v1-" + 64 hex (openrouter.ai/docs, authentication).
    id: "openrouter-api-key",
    type: "openrouter_token",
    regex: /(?<![A-Za-z0-9_-])sk-or-v1-[0-9a-f]{64}(?![A-Za-z0-9])/,
    keywords: ["sk-or-v1-"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // LangSmith personal and service keys, "lsv2_pt_" / "lsv2_sk_" + 32 hex + "_" + 10 hex (docs.smith.langchain.com, API keys).
    id: "langsmith-api-key",
    type: "langsmith_token",
    regex: /(?<![A-Za-z0-9_])lsv2_(?:pt|sk)_[0-9a-f]{32}_[0-9a-f]{10}(?![A-Za-z0-9])/,
    keywords: ["lsv2_"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Pinecone API keys, "pcsk_" + a short id, "_" and the secret (docs.pinecone.io, API keys).
    id: "pinecone-api-key",
    type: "pinecone_token",
    regex: /(?<![A-Za-z0-9_])pcsk_[A-Za-z0-9]{4,10}_[A-Za-z0-9]{40,80}(?![A-Za-z0-9])/,
    keywords: ["pcsk_"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Anthropic Admin API keys, "sk-ant-admin01-" (docs.anthropic.com, Admin API).
    id: "anthropic-admin-key",
    type: "anthropic_token",
    regex: /(?<![A-Za-z0-9_-])sk-ant-admin01-[\w-]{80,110}/,
    keywords: ["sk-ant-admin01-"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Google OAuth client secrets, "GOCSPX-" + 28 characters (Google Cloud console, OAuth clients).
    id: "google-oauth-client-secret",
    type: "google_oauth_token",
    regex: /(?<![A-Za-z0-9_-])GOCSPX-[\w-]{24,32}(?![\w-])/,
    keywords: ["gocspx-"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Docker Hub personal access tokens, "dckr_pat_" (docs.docker.com, access tokens).
    id: "docker-hub-pat",
    type: "docker_token",
    regex: /(?<![A-Za-z0-9_])dckr_(?:pat|oat)_[\w-]{24,40}(?![\w-])/,
    keywords: ["dckr_"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // CircleCI personal API tokens, "CCIPAT_" + 22 characters + "_" + 40 hex (circleci.com/docs, managing API tokens).
    id: "circleci-pat",
    type: "circleci_token",
    regex: /(?<![A-Za-z0-9_])CCIPAT_[A-Za-z0-9]{20,24}_[0-9a-f]{40}(?![A-Za-z0-9])/,
    keywords: ["ccipat_"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Buildkite user API access tokens, "bkua_" + 40 hex (buildkite.com/docs/apis, managing API access tokens).
    id: "buildkite-token",
    type: "buildkite_token",
    regex: /(?<![A-Za-z0-9_])bkua_[0-9a-f]{40}(?![A-Za-z0-9])/,
    keywords: ["bkua_"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Netlify personal access tokens, "nfp_" + 36 characters (docs.netlify.com, API access).
    id: "netlify-pat",
    type: "netlify_token",
    regex: /(?<![A-Za-z0-9_])nfp_[A-Za-z0-9]{32,40}(?![A-Za-z0-9])/,
    keywords: ["nfp_"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Render API keys, "rnd_" + 32 characters (render.com/docs/api, API keys).
    id: "render-api-key",
    type: "render_token",
    regex: /(?<![A-Za-z0-9_])rnd_[A-Za-z0-9]{28,40}(?![A-Za-z0-9])/,
    keywords: ["rnd_"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Neon API keys, "napi_" + 64 lower-case letters and digits (neon.com/docs, API keys).
    id: "neon-api-key",
    type: "neon_token",
    regex: /(?<![A-Za-z0-9_])napi_[a-z0-9]{60,70}(?![A-Za-z0-9])/,
    keywords: ["napi_"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Resend API keys, "re_" + an 8-character id + "_" + the secret (resend.com/docs, API keys).
    id: "resend-api-key",
    type: "resend_token",
    regex: /(?<![A-Za-z0-9_])re_[A-Za-z0-9]{8}_[A-Za-z0-9]{20,32}(?![A-Za-z0-9])/,
    keywords: ["re_"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // PostHog personal API keys, "phx_" (posthog.com/docs/api, personal API keys).
    id: "posthog-personal-key",
    type: "posthog_token",
    regex: /(?<![A-Za-z0-9_])phx_[A-Za-z0-9]{40,50}(?![A-Za-z0-9])/,
    keywords: ["phx_"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Replicate API tokens, "r8_" + 37 letters and digits (replicate.com/docs, authentication).
    id: "replicate-api-token",
    type: "replicate_token",
    regex: /(?<![A-Za-z0-9_])r8_[A-Za-z0-9]{35,40}(?![A-Za-z0-9])/,
    keywords: ["r8_"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Supabase personal access tokens, "sbp_" + 40 hex (supabase.com/docs, management API).
    id: "supabase-pat",
    type: "supabase_token",
    regex: /(?<![A-Za-z0-9_])sbp_[0-9a-f]{40}(?![A-Za-z0-9])/,
    keywords: ["sbp_"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Supabase secret API keys, "sb_secret_" (supabase.com/docs, API keys).
    id: "supabase-secret-key",
    type: "supabase_token",
    regex: /(?<![A-Za-z0-9_])sb_secret_[\w-]{24,64}(?![\w-])/,
    keywords: ["sb_secret_"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Bitbucket app passwords, "ATBB" + 32 characters + 8 hex (support.atlassian.com, app passwords).
    id: "bitbucket-app-password",
    type: "bitbucket_token",
    regex: /(?<![A-Za-z0-9_])ATBB[A-Za-z0-9]{32}[0-9A-Fa-f]{8}(?![A-Za-z0-9])/,
    keywords: ["atbb"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Figma personal access tokens, "figd_" (figma.com/developers/api, access tokens).
    id: "figma-pat",
    type: "figma_token",
    regex: /(?<![A-Za-z0-9_])figd_[\w-]{36,50}(?![\w-])/,
    keywords: ["figd_"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Sentry organization auth tokens, "sntrys_" + base64 claims and a secret (docs.sentry.io, auth tokens).
    id: "sentry-org-token",
    type: "sentry_token",
    regex: /(?<![A-Za-z0-9_])sntrys_[A-Za-z0-9+/=_]{60,400}/,
    keywords: ["sntrys_"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Sentry user auth tokens, "sntryu_" + 64 hex (docs.sentry.io, auth tokens).
    id: "sentry-user-token",
    type: "sentry_token",
    regex: /(?<![A-Za-z0-9_])sntryu_[0-9a-f]{64}(?![A-Za-z0-9])/,
    keywords: ["sntryu_"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Heroku API keys, "HRKU-" (devcenter.heroku.com, authentication).
    id: "heroku-api-key-v2",
    type: "heroku_token",
    regex: /(?<![A-Za-z0-9_-])HRKU-[\w-]{40,70}(?![\w-])/,
    keywords: ["hrku-"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // 1Password service account tokens, "ops_eyJ" + base64url JSON (developer.1password.com, service accounts).
    id: "onepassword-service-account",
    type: "onepassword_token",
    regex: /(?<![A-Za-z0-9_])ops_eyJ[\w-]{100,1200}/,
    keywords: ["ops_eyj"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Dropbox short-lived access tokens, "sl." + 130 or more characters (dropbox.com/developers, OAuth guide).
    id: "dropbox-short-lived",
    type: "dropbox_token",
    regex: /(?<![A-Za-z0-9_.-])sl\.(?:u\.)?[\w-]{130,1400}/,
    keywords: ["sl."],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Infisical service tokens, "st." + three dot-separated hex parts (infisical.com/docs, service tokens).
    id: "infisical-service-token",
    type: "infisical_token",
    regex: /(?<![A-Za-z0-9_.])st\.[0-9a-f]{24}\.[0-9a-f]{32}\.[0-9a-f]{32}(?![A-Za-z0-9])/,
    keywords: ["st."],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Mapbox secret access tokens, "sk.eyJ" + base64url JSON + "." + a signature (docs.mapbox.com, access tokens).
    id: "mapbox-secret-token",
    type: "mapbox_token",
    regex: /(?<![A-Za-z0-9_.-])sk\.eyJ[\w-]{20,200}\.[\w-]{20,40}/,
    keywords: ["sk.eyj"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Firebase Cloud Messaging legacy server keys, "AAAA" + 7 characters + ":APA91b" (firebase.google.com/docs/cloud-messaging).
    id: "firebase-fcm-server-key",
    type: "firebase_token",
    regex: /(?<![\w-])AAAA[\w-]{7}:APA91b[\w-]{120,160}/,
    keywords: [":apa91b"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // LaunchDarkly API access tokens and SDK keys, "api-" / "sdk-" / "mob-" + a UUID (docs.launchdarkly.com, API access tokens).
    id: "launchdarkly-key",
    type: "launchdarkly_token",
    regex:
      /(?<![A-Za-z0-9_-])(?:api|sdk|mob)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![A-Za-z0-9])/,
    keywords: ["api-", "sdk-", "mob-"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Twitch chat OAuth tokens, "oauth:" + 30 lower-case letters and digits (dev.twitch.tv/docs/irc, authenticating).
    id: "twitch-chat-oauth",
    type: "twitch_token",
    regex: /(?<![A-Za-z0-9_])oauth:[a-z0-9]{30}(?![A-Za-z0-9])/,
    keywords: ["oauth:"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
  {
    // Vercel Blob read-write tokens, "vercel_blob_rw_" (vercel.com/docs/storage/vercel-blob).
    id: "vercel-blob-token",
    type: "vercel_token",
    regex: /(?<![A-Za-z0-9_])vercel_blob_rw_[A-Za-z0-9]{12,20}_[A-Za-z0-9]{24,40}(?![A-Za-z0-9])/,
    keywords: ["vercel_blob_rw_"],
    entropy: 3,
    group: 0,
    allow: NONE,
    allowMatch: NONE,
    stopwords: NONE,
  },
];
