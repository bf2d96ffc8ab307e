"""Detection corpus for `npm run bench -- detect`, generated at bench time (seeded).

Personal data comes from Faker (several locales); secrets are built from the token shapes
their providers document (prefixes, lengths, alphabets), written here by hand and held out
from gitleaks' rule file and its examples (Interlock's detectors may be generated from that
file; scoring them on its own examples would prove nothing). Values are random: none is a
real credential, but they look like real ones, so only this generator is committed.

Output: one compact JSON object per line in corpus.txt (what every tool scans, line by line),
and one label per line in labels.jsonl: {"type", "category"} with category "token", "pii" or
"negative". A positive line holds exactly one planted value; a negative line holds none.
"""

import argparse
import base64
import json
import random
import string
import urllib.parse

from faker import Faker

LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_BR", "en_IN"]
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B64 = string.ascii_letters + string.digits + "+/"
URLSAFE = string.ascii_letters + string.digits + "-_"


class Gen:
    def __init__(self, seed: int):
        self.r = random.Random(seed)
        Faker.seed(seed)
        self.fakers = {loc: Faker(loc) for loc in LOCALES}
        for i, f in enumerate(self.fakers.values()):
            f.seed_instance(seed + i)
        self.us = self.fakers["en_US"]
        self.gb = self.fakers["en_GB"]

    # -- helpers ---------------------------------------------------------------------------
    def chars(self, n, alphabet=ALNUM):
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def faker(self):
        return self.fakers[self.r.choice(LOCALES)]

    def pick(self, xs):
        return self.r.choice(xs)

    def sentence(self):
        return self.us.sentence(nb_words=self.r.randint(6, 14))

    # -- personal data (Faker) ---------------------------------------------------------------
    def email(self):
        return self.faker().email()

    def phone(self):
        f = self.faker()
        # Faker's numbers come in each locale's national and international formats.
        return f.phone_number()

    def card(self):
        brand = self.pick(["visa", "mastercard", "amex", "discover", "jcb", "diners"])
        if brand == "jcb":
            # Faker draws JCB numbers from all of 35xx; JCB's documented IIN range is 3528-3589.
            n = self.luhn_complete(str(self.r.randint(3528, 3589)) + self.chars(11, string.digits))
        else:
            n = self.us.credit_card_number(card_type=brand)
        style = self.r.random()
        if style < 0.4:
            return " ".join(n[i : i + 4] for i in range(0, len(n), 4))
        if style < 0.55:
            return "-".join(n[i : i + 4] for i in range(0, len(n), 4))
        return n

    def iban(self):
        loc = self.pick(["de_DE", "en_GB", "fr_FR", "nl_NL", "es_ES", "it_IT"])
        v = self.fakers[loc].iban()
        style = self.r.random()
        if style < 0.4:
            return " ".join(v[i : i + 4] for i in range(0, len(v), 4))
        if style < 0.5:
            return v.lower()
        return v

    def ssn(self):
        return self.us.ssn()

    def nino(self):
        # UK National Insurance number: two prefix letters, six digits, suffix A-D.
        # HMRC: first letter not D F I Q U V, second not D F I O Q U V, and the prefixes BG GB KN
        # NK NT TN ZZ are never allocated.
        first, second = "B", "G"
        while first + second in ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ"):
            first = self.pick("ABCEGHJKLMNOPRSTWXYZ")
            second = self.pick("ABCEGHJKLMNPRSTWXYZ")
        digits = "".join(self.pick(string.digits) for _ in range(6))
        v = f"{first}{second}{digits}{self.pick('ABCD')}"
        if self.r.random() < 0.5:
            v = f"{v[0:2]} {v[2:4]} {v[4:6]} {v[6:8]} {v[8]}"
        return v

    def ipv4(self):
        return self.us.ipv4_public()

    def ipv6(self):
        return self.us.ipv6()

    # -- secrets (provider-documented shapes) --------------------------------------------------
    def tokens(self):
        c, r = self.chars, self.r
        return {
            "aws_access_key_id": lambda: "AKIA" + c(16, string.ascii_uppercase + "234567"),
            "aws_secret_access_key": lambda: ("aws_secret_access_key", c(40, B64)),
            "github_classic": lambda: self.pick(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]) + c(36),
            "github_fine_grained": lambda: "github_pat_" + c(22) + "_" + c(59),
            "gitlab_pat": lambda: "glpat-" + c(20, URLSAFE),
            "slack_bot_token": lambda: f"xoxb-{r.randint(10**10, 10**12)}-{r.randint(10**10, 10**12)}-{c(24)}",
            "slack_user_token": lambda: f"xoxp-{r.randint(10**10, 10**12)}-{r.randint(10**10, 10**12)}-{r.randint(10**10, 10**12)}-{c(32, HEX)}",
            "slack_webhook": lambda: f"https://hooks.slack.com/services/T{c(8, string.ascii_uppercase + string.digits)}/B{c(8, string.ascii_uppercase + string.digits)}/{c(24)}",
            "stripe_secret": lambda: self.pick(["sk_live_", "rk_live_"]) + c(r.choice([24, 99])),
            "google_api_key": lambda: "AIza" + c(35, URLSAFE),
            "openai_key": lambda: "sk-proj-" + c(74, URLSAFE) + "T3BlbkFJ" + c(74, URLSAFE),
            "anthropic_key": lambda: "sk-ant-api03-" + c(93, URLSAFE) + "AA",
            "npm_token": lambda: "npm_" + c(36),
            "pypi_token": lambda: "pypi-AgEIcHlwaS5vcmc" + c(r.randint(60, 120), URLSAFE),
            "twilio_api_key": lambda: "SK" + c(32, HEX),
            "twilio_auth_token": lambda: ("TWILIO_AUTH_TOKEN", c(32, HEX)),
            "sendgrid_key": lambda: "SG." + c(22, URLSAFE) + "." + c(43, URLSAFE),
            "azure_storage_connection": lambda: (
                f"DefaultEndpointsProtocol=https;AccountName={self.us.user_name().replace('.', '')[:20]}"
                f";AccountKey={c(86, B64)}==;EndpointSuffix=core.windows.net"
            ),
            "azure_sas_url": lambda: (
                f"https://{c(10, string.ascii_lowercase)}.blob.core.windows.net/backups/db.bak?"
                f"sv=2022-11-02&ss=b&srt=o&sp=r&se=2026-12-31T00:00:00Z&spr=https&sig="
                + urllib.parse.quote(c(43, B64) + "=", safe="")
            ),
            "gcp_service_account": lambda: json.dumps(
                {
                    "type": "service_account",
                    "project_id": f"proj-{c(6, string.ascii_lowercase)}",
                    "private_key_id": c(40, HEX),
                    "private_key": "-----BEGIN PRIVATE KEY-----\n"
                    + c(64, B64)
                    + "\n"
                    + c(64, B64)
                    + "\n-----END PRIVATE KEY-----\n",
                    "client_email": f"svc@proj-{c(6, string.ascii_lowercase)}.iam.gserviceaccount.com",
                }
            ),
            "huggingface_token": lambda: "hf_" + c(34, string.ascii_letters),
            "digitalocean_token": lambda: "dop_v1_" + c(64, HEX),
            "shopify_token": lambda: self.pick(["shpat_", "shpss_", "shpca_"]) + c(32, HEX),
            "datadog_api_key": lambda: ("DD_API_KEY", c(32, HEX)),
            "jwt": lambda: ".".join(
                [
                    base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("="),
                    base64.urlsafe_b64encode(
                        json.dumps({"sub": str(r.randint(1, 10**6)), "iat": 1795400000}).encode()
                    )
                    .decode()
                    .rstrip("="),
                    c(43, URLSAFE),
                ]
            ),
            "pem_private_key": lambda: "-----BEGIN RSA PRIVATE KEY-----\n"
            + "\n".join(c(64, B64) for _ in range(4))
            + "\n-----END RSA PRIVATE KEY-----",
            "url_with_credentials": lambda: (
                f"{self.pick(['postgres', 'mysql', 'https', 'amqp', 'redis'])}://"
                f"{self.us.user_name()}:{c(r.randint(12, 24))}@{self.us.domain_name()}:{r.randint(1000, 9999)}/db"
            ),
            "mongodb_srv": lambda: f"mongodb+srv://{self.us.user_name()}:{c(16)}@cluster0.{c(5, string.ascii_lowercase)}.mongodb.net/app",
            "sqlserver_connection": lambda: (
                f"Server=tcp:{c(8, string.ascii_lowercase)}.database.windows.net,1433;Database=app;"
                f"User ID={self.us.user_name()};Password={c(18)};Encrypt=true;"
            ),
            "authorization_bearer": lambda: "Authorization: Bearer " + c(40, URLSAFE),
            "authorization_basic": lambda: "Authorization: Basic "
            + base64.b64encode(f"{self.us.user_name()}:{c(14)}".encode()).decode(),
            "password_field": lambda: (self.pick(["password", "db_password", "PASSWORD"]), c(r.randint(10, 24), ALNUM + "!#%&*")),
            "token_field": lambda: (f"TOKEN_{r.randint(1, 9)}", c(r.randint(24, 48), URLSAFE)),
            "api_key_field": lambda: (self.pick(["api_key", "apiKey", "client_secret", "secret"]), c(r.randint(24, 40))),
        }

    # -- negatives ---------------------------------------------------------------------------
    def luhn_complete(self, body_digits):
        """body_digits followed by its Luhn check digit."""
        body = [int(d) for d in body_digits]
        total = 0
        for i, d in enumerate(reversed(body)):
            if i % 2 == 0:
                d *= 2
                if d > 9:
                    d -= 9
            total += d
        return body_digits + str((10 - total % 10) % 10)

    def luhn_order_number(self):
        body = [self.r.randint(1, 9)] + [self.r.randint(0, 9) for _ in range(11)]
        total = 0
        for i, d in enumerate(reversed(body)):
            if i % 2 == 0:
                d *= 2
                if d > 9:
                    d -= 9
            total += d
        return "".join(map(str, body)) + str((10 - total % 10) % 10)

    def negatives(self):
        r = self.r
        return {
            "browser_version": lambda: (
                "user_agent",
                f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                f"Chrome/{r.randint(100, 131)}.0.{r.randint(4000, 6999)}.{r.randint(10, 250)} Safari/537.36",
            ),
            "version_string": lambda: ("note", f"upgraded to {r.randint(1, 30)}.{r.randint(0, 20)}.{r.randint(0, 99)}.{r.randint(0, 9999)} last night"),
            "order_number": lambda: ("note", f"order {self.luhn_order_number()} shipped to the warehouse"),
            "uuid": lambda: ("request_id", self.us.uuid4()),
            "git_sha": lambda: ("commit", self.chars(40, HEX)),
            "timestamp": lambda: ("ts", self.pick([self.us.iso8601(), str(r.randint(1_600_000_000_000, 1_800_000_000_000))])),
            "prose": lambda: ("text", self.us.paragraph(nb_sentences=3)),
            "name_address": lambda: ("customer", f"{self.faker().name()}, {self.faker().address().replace(chr(10), ', ')}"),
            "code": lambda: ("snippet", self.pick([
                "const total = items.reduce((sum, item) => sum + item.price * item.qty, 0);",
                "for (let i = 0; i < rows.length; i += 1) { out.push(rows[i].id); }",
                "SELECT id, created_at FROM orders WHERE status = 'paid' ORDER BY created_at DESC LIMIT 50",
                "if err != nil { return fmt.Errorf(\"load config: %w\", err) }",
                "def handler(event, context):\n    return {'statusCode': 200}",
            ])),
            "sha256": lambda: ("checksum", "sha256:" + self.chars(64, HEX)),
            "semver_range": lambda: ("dependency", f"^{r.randint(1, 9)}.{r.randint(0, 30)}.{r.randint(0, 9)}"),
            "port_list": lambda: ("ports", f"{r.randint(1000, 9999)},{r.randint(1000, 9999)},{r.randint(1000, 9999)}"),
        }


PII_TEMPLATES = [
    "Please reach {v} about the renewal.",
    "contact: {v}",
    "{v}",
    "Customer says the value on file is {v}, please verify.",
]
TOKEN_TEMPLATES = [
    "{v}",
    "export SECRET_VALUE={v}",
    "use {v} for the deploy step",
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--per-type", type=int, default=60)
    ap.add_argument("--negatives-per-type", type=int, default=60)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--labels", required=True)
    a = ap.parse_args()
    g = Gen(a.seed)
    rows = []
    pii = {
        "email": g.email,
        "phone": g.phone,
        "payment_card": g.card,
        "iban": g.iban,
        "us_ssn": g.ssn,
        "uk_nino": g.nino,
        "ipv4": g.ipv4,
        "ipv6": g.ipv6,
    }
    for t, make in pii.items():
        for i in range(a.per_type):
            v = make()
            if g.r.random() < 0.4:
                key = {"email": "email", "phone": "phone", "payment_card": "card", "iban": "account",
                       "us_ssn": "ssn", "uk_nino": "ni_number", "ipv4": "client_ip", "ipv6": "client_ip"}[t]
                doc = {key: v}
            else:
                doc = {"text": g.pick(PII_TEMPLATES).format(v=v)}
            rows.append((doc, {"type": t, "category": "pii"}))
    for t, make in g.tokens().items():
        for i in range(max(10, a.per_type // 3)):
            v = make()
            if isinstance(v, tuple):  # a value under a key-like name
                doc = {v[0]: v[1]}
            elif g.r.random() < 0.5:
                doc = {"config": g.pick(TOKEN_TEMPLATES).format(v=v)}
            else:
                doc = {"value": v}
            rows.append((doc, {"type": t, "category": "token"}))
    for t, make in g.negatives().items():
        for i in range(a.negatives_per_type):
            k, v = make()
            rows.append(({k: v}, {"type": t, "category": "negative"}))
    g.r.shuffle(rows)
    with open(a.corpus, "w", encoding="utf-8") as c, open(a.labels, "w", encoding="utf-8") as lab:
        for doc, label in rows:
            c.write(json.dumps(doc, ensure_ascii=False) + "\n")
            lab.write(json.dumps(label) + "\n")


if __name__ == "__main__":
    main()
