/**
 * Unit tests for the built-in detectors. Every fixture is an obviously fake value in a real
 * format (example.com addresses, 555-01xx numbers, public test card numbers, documentation IP
 * ranges); provider tokens are assembled at runtime so that no secret scanner flags this file.
 */
import { Buffer } from "node:buffer";
import { createHash, randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DETECTORS,
  detectInString,
  isPlaceholder,
  keyWords,
  looksSecret,
  luhnValid,
  shannonEntropy,
} from "../src/masking/detectors.ts";
import { FINDING_TYPES, type FindingType } from "../src/masking/types.ts";
import { normalizedView, normalizeText } from "../src/text/unicode.ts";
import { verhoeffValid } from "../src/masking/national-ids.ts";
import { ENCODED_PATTERNS, encodedRuns } from "../src/masking/encoded.ts";

// ---- fake tokens, built from parts ------------------------------------------------------------

const b64url = (s: string): string => Buffer.from(s).toString("base64url");
const FAKE = {
  github: "gh" + "p_" + "FAKE".repeat(9),
  githubOauth: "gh" + "o_" + "Fake0".repeat(7) + "F",
  githubPat: "github" + "_pat_" + "FAKE0FAKE0FAKE0FAKE0FA" + "_" + "fake".repeat(14) + "FAK",
  stripe: "sk_" + "live_" + "FAKEFAKEFAKEFAKE1234",
  stripeRestricted: "rk_" + "test_" + "FAKEFAKEFAKEFAKE5678",
  awsAccess: "AKIA" + "FAKEFAKEFAKEFAKE",
  awsSession: "ASIA" + "FAKE0000FAKE0000",
  awsSecret: "FAKE/fake+".repeat(4),
  google: "AI" + "za" + "FAKE_fake-".repeat(3) + "FAKEF",
  slack: "xox" + "b-" + "000000000000-0000000000000-" + "FAKEFAKEFAKEFAKEFAKEFAKE",
  slackWebhook:
    "https://hooks.slack" + ".com/services/" + "T00000000/B00000000/" + "FAKEFAKEFAKEFAKEFAKEFAKE",
  jwtNone: `${b64url('{"alg":"none","typ":"JWT"}')}.${b64url('{"sub":"fake-user"}')}.`,
  jwtSigned: `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url('{"sub":"fake-user","iat":0}')}.${"FAKEsig_-".repeat(4)}`,
};
const pem = (label: string): string =>
  `-----BEGIN ${label}` +
  " KEY-----\nFAKEFAKEFAKEFAKEFAKEFAKE\nfakefakefakefakefake==\n" +
  `-----END ${label} KEY-----`;

/** Deterministic high-entropy characters from `alphabet` (a fixed-seed generator, not random). */
function chars(alphabet: string, n: number, seed = 7): string {
  let x = seed >>> 0;
  let out = "";
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    out += alphabet.charAt(x % alphabet.length);
  }
  return out;
}
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX = "0123456789abcdef";

// ---- helpers ----------------------------------------------------------------------------------

/** [type, matched text] for every span, in order. */
function found(text: string, keyName?: string): [FindingType, string][] {
  return detectInString(text, keyName).map((s) => [s.type, text.slice(s.start, s.end)]);
}

/** Types found in the text. */
function typesIn(text: string, keyName?: string): FindingType[] {
  return detectInString(text, keyName).map((s) => s.type);
}

// ---- the table itself -------------------------------------------------------------------------

describe("detector table", () => {
  it("has one built-in detector per built-in type, with the documented kind", () => {
    const builtIn = DETECTORS.map((d) => d.type);
    expect(new Set(builtIn).size).toBe(builtIn.length);
    for (const t of builtIn) expect(FINDING_TYPES).toContain(t);
    const pii = [
      ...["email", "phone", "payment_card", "iban", "us_ssn", "ip_address"],
      ...["uk_nino", "ca_sin", "nl_bsn", "in_aadhaar", "us_itin", "uk_nhs", "crypto_wallet"],
    ];
    for (const d of DETECTORS) expect(d.kind).toBe(pii.includes(d.type) ? "pii" : "secret");
  });

  it("names every finding type once, in short snake_case (placeholders show it)", () => {
    expect(new Set(FINDING_TYPES).size).toBe(FINDING_TYPES.length);
    for (const t of FINDING_TYPES) expect(t).toMatch(/^[a-z][a-z0-9_]{1,23}$/);
  });

  it("uses global or sticky regexes only where it scans", () => {
    for (const d of DETECTORS) {
      expect(d.pattern.global || d.pattern.sticky).toBe(true);
      expect(d.patterns).toContain(d.pattern);
    }
  });
});

// ---- personal data ----------------------------------------------------------------------------

describe("email", () => {
  it("covers exactly the address inside a SQL query", () => {
    const q = "select * from customers where email = 'jane@example.com'";
    const spans = detectInString(q);
    expect(spans).toEqual([{ type: "email", kind: "pii", start: 39, end: 55 }]);
    expect(q.slice(0, 39) + "[email]" + q.slice(55)).toBe(
      "select * from customers where email = '[email]'",
    );
  });

  it("finds several addresses and trims punctuation around them", () => {
    expect(found("To: <jane.doe+churn@example.org>, bob_smith@mail.example.net.")).toEqual([
      ["email", "jane.doe+churn@example.org"],
      ["email", "bob_smith@mail.example.net"],
    ]);
    expect(found('{"owner":"ops-team@example.com"}')).toEqual([["email", "ops-team@example.com"]]);
  });

  it("ignores things that only look like addresses", () => {
    for (const text of [
      "git@github.com:example/repo.git",
      "icon@2x.png",
      "npm i @types/node",
      "root@localhost",
      "lodash@4.17.21",
      "@alice please review",
      "a@b",
    ]) {
      expect(typesIn(text), text).not.toContain("email");
    }
  });
});

describe("internationalised e-mail", () => {
  it("as the requester: finds addresses with Unicode in the domain or the local part", () => {
    for (const address of [
      ["jane.doe", "exämple.de"].join("@"),
      ["jöns", "example.com"].join("@"),
      ["用户", "例子.广告"].join("@"),
      ["иван", "пример.рф"].join("@"),
    ]) {
      expect(found(`write to ${address} now`), address).toEqual([["email", address]]);
    }
  });
});

describe("phone", () => {
  it("as the requester: finds numbers dialled with the international prefix 00 instead of +", () => {
    for (const text of [
      ["0033", "612345678"].join(""),
      ["0033", "6", "12", "34", "56", "78"].join(" "),
      ["0049", "30", "1234567"].join(" "),
      ["0044", "20", "7946", "0958"].join(" "),
    ]) {
      expect(found(`call ${text} today`), text).toEqual([["phone", text]]);
    }
    expect(typesIn(`ref ${["0000", "1234", "5678"].join("")}`)).not.toContain("phone");
  });

  it("finds North American and international numbers", () => {
    expect(found("call (202) 555-0147 or 202.555.0123 or 1-202-555-0199")).toEqual([
      ["phone", "(202) 555-0147"],
      ["phone", "202.555.0123"],
      ["phone", "1-202-555-0199"],
    ]);
    expect(found("UK office +44 20 7946 0958, US +1 202 555 0147.")).toEqual([
      ["phone", "+44 20 7946 0958"],
      ["phone", "+1 202 555 0147"],
    ]);
    expect(found("tel:+1-202-555-0110")).toEqual([["phone", "+1-202-555-0110"]]);
  });

  it("finds national numbers without a plus sign, validated against libphonenumber's metadata", () => {
    for (const phone of [
      "020 7946 0958",
      "01 23 45 67 89",
      "030 12345678",
      "(030) 1234567",
      "06-12345678",
    ]) {
      expect(found(`call ${phone} today`), phone).toEqual([["phone", phone]]);
    }
    for (const text of [
      "order 0000123456", // a trunk 0, but no country numbers its lines like this
      "ref 00 00 00 00 00",
      "batch 0.12345678",
      "ref 0000 0000 0000",
    ]) {
      expect(typesIn(text), text).not.toContain("phone");
    }
  });

  it("finds national numbers written without separators, only at a national length", () => {
    // UK London and Australian mobile numbers as people type them (fake: Ofcom drama range,
    // ACMA's 0491 570 xxx fiction range).
    for (const phone of ["02079460958", "0491570156"]) {
      expect(found(`call ${phone} today`), phone).toEqual([["phone", phone]]);
    }
    for (const text of ["id 012345678", "ref 0207946095812"]) {
      expect(typesIn(text), text).not.toContain("phone");
    }
  });

  it("finds extensions and numbers dialled from abroad, and Brazil's national format", () => {
    expect(found("call 202.555.0147x704 now")).toEqual([["phone", "202.555.0147x704"]]);
    expect(found("call +1-202-555-0147 ext. 12 now")).toEqual([
      ["phone", "+1-202-555-0147 ext. 12"],
    ]);
    expect(found("call 001-202-555-0147x40 now")).toEqual([["phone", "001-202-555-0147x40"]]);
    expect(found("+1-202-555-0147x974", "phone")).toEqual([["phone", "+1-202-555-0147x974"]]);
    expect(found("ligue (11) 3456-7890 ou 61 3192-2900")).toEqual([
      ["phone", "(11) 3456-7890"],
      ["phone", "61 3192-2900"],
    ]);
  });

  it("leaves the SSN's 3-2-4 dash shape to the SSN detector", () => {
    const ssn = ["050", "68", "8064"].join("-");
    expect(found(`on file: ${ssn}.`)).toEqual([["us_ssn", ssn]]);
  });

  it("uses the key name for bare digits", () => {
    expect(found("2025550147", "phone")).toEqual([["phone", "2025550147"]]);
    expect(found("+1 (202) 555-0147", "mobileNumber")).toEqual([["phone", "+1 (202) 555-0147"]]);
    expect(found("2025550147", "order_id")).toEqual([]);
  });

  it("ignores dates, timestamps, order numbers and ranges", () => {
    for (const text of [
      "2024-01-15",
      "2024-01-15T10:30:00Z",
      "order 2025550147",
      "unix time 1700000000",
      "123-456-7890",
      "1.2.3.4567",
      "range 100-200-3000",
      "+12",
      "x+12345678901",
    ]) {
      expect(typesIn(text), text).not.toContain("phone");
    }
  });
});

describe("payment card", () => {
  it("finds Luhn-valid numbers with or without separators", () => {
    expect(
      found(
        "visa 4242 4242 4242 4242, 4111-1111-1111-1111, 4111111111111111 and amex 3782 822463 10005",
      ),
    ).toEqual([
      ["payment_card", "4242 4242 4242 4242"],
      ["payment_card", "4111-1111-1111-1111"],
      ["payment_card", "4111111111111111"],
      ["payment_card", "3782 822463 10005"],
    ]);
  });

  it("stops at the card and keeps what follows", () => {
    expect(found("card 4242 4242 4242 4242 2030 cvc")).toEqual([
      ["payment_card", "4242 4242 4242 4242"],
    ]);
    expect(found("card=5555555555554444;exp=12/30")).toEqual([
      ["payment_card", "5555555555554444"],
    ]);
  });

  it("ignores numbers that fail Luhn or are not cards", () => {
    for (const text of [
      "order 4242 4242 4242 4241",
      "order 4111111111111112",
      "ts 1700000000000", // epoch milliseconds
      "0000 0000 0000 0000",
      "4444444444444444", // Luhn-valid but a single repeated digit
      "pi 3.4242424242424242",
      "id 42424242424242424242",
      "4242-4242 4242-4242", // mixed separators
      "1 2 3 4 5 6 7 8 9 0 1 2 3 4",
      "INV4242424242424242",
    ]) {
      expect(typesIn(text), text).not.toContain("payment_card");
    }
  });

  it("needs a real issuer range with a length that brand issues (IIN table)", () => {
    // Luhn-valid, but no brand issues these prefix/length pairs.
    const luhnComplete = (body: string): string => {
      for (let d = 0; d < 10; d++) if (luhnValid(body + d, 0, body.length + 1)) return body + d;
      throw new Error("unreachable");
    };
    for (const body of ["100000000012", "700000000012", "540000000001", "411111111111111"]) {
      const n = luhnComplete(body); // 13 digits (1…, 7…), 13-digit Mastercard, 16-digit Visa
      const expected = n.length === 16 && n.startsWith("4") ? [["payment_card", n]] : [];
      expect(found(`n ${n}`), n).toEqual(expected);
    }
    expect(found(`amex ${luhnComplete("37828224631000")}`)).toEqual([
      ["payment_card", luhnComplete("37828224631000")],
    ]);
    expect(found(`amex16 ${luhnComplete("378282246310005")}`)).toEqual([]); // Amex is 15
  });

  it("finds numbers printed in fours with a shorter last group (14-digit Diners as 4-4-4-2)", () => {
    const luhnComplete = (body: string): string => {
      for (let d = 0; d < 10; d++) if (luhnValid(body + d, 0, body.length + 1)) return body + d;
      throw new Error("unreachable");
    };
    const diners = luhnComplete("3056930902590");
    const grouped = [0, 4, 8, 12].map((i) => diners.slice(i, i + 4)).join(" ");
    expect(found(`card ${grouped}, thanks`)).toEqual([["payment_card", grouped]]);
    const dashed = grouped.replaceAll(" ", "-");
    expect(found(`card ${dashed}`)).toEqual([["payment_card", dashed]]);
  });

  it("does not take a 13-digit Luhn-valid number starting with 4 for a Visa card", () => {
    // Visa issues 16 and 19 digits; the 13-digit PANs are long withdrawn. One 13-digit order
    // number in ten passes Luhn.
    const luhnComplete = (body: string): string => {
      for (let d = 0; d < 10; d++) if (luhnValid(body + d, 0, body.length + 1)) return body + d;
      throw new Error("unreachable");
    };
    const order = luhnComplete("416099318321");
    expect(order).toHaveLength(13);
    expect(typesIn(`order ${order} shipped`)).toEqual([]);
  });

  it("checks Luhn", () => {
    expect(luhnValid("4242424242424242", 0, 16)).toBe(true);
    expect(luhnValid("4242 4242 4242 4241", 0, 19)).toBe(false);
  });
});

describe("iban", () => {
  it("finds the standard example in print and electronic form", () => {
    expect(found("pay to GB82 WEST 1234 5698 7654 32 today")).toEqual([
      ["iban", "GB82 WEST 1234 5698 7654 32"],
    ]);
    expect(found("iban=GB82WEST12345698765432&x=1")).toEqual([["iban", "GB82WEST12345698765432"]]);
    expect(found("DE89 3704 0044 0532 0130 00.")).toEqual([
      ["iban", "DE89 3704 0044 0532 0130 00"],
    ]);
  });

  it("rejects a wrong checksum, a wrong length and odd grouping", () => {
    for (const text of [
      "GB83 WEST 1234 5698 7654 32",
      "GB82WEST1234569876543",
      "GB82WEST12345698765432X",
      "GB82 WEST-1234 5698 7654 32",
      "Gb82WeSt12345698765432",
      "AB12 CDEF 1234 5678 9012 34",
    ]) {
      expect(typesIn(text), text).not.toContain("iban");
    }
  });

  it("finds an IBAN whose mod-97 digits hold even when a national check inside the BBAN fails", () => {
    // The French RIB key (last two BBAN digits) set wrong, the IBAN check digits recomputed.
    const bban = "300060000112345678901" + "00";
    const numeric = (bban + "FR00").replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
    const check = String(98 - Number(BigInt(numeric) % 97n)).padStart(2, "0");
    const iban = `FR${check}${bban}`;
    expect(found(`virement sur ${iban} merci`)).toEqual([["iban", iban]]);
    // A wrong mod-97 is still not an IBAN.
    const wrong = `FR${check === "01" ? "02" : "01"}${bban}`;
    expect(typesIn(`ref ${wrong}`)).not.toContain("iban");
  });

  it("finds IBANs in lower case and in national groupings", () => {
    for (const iban of [
      "gb82 west 1234 5698 7654 32",
      "gb82west12345698765432",
      "GB82 WE ST12 3456 9876 5432",
      "DE89-3704-0044-0532-0130-00",
      "FR14 2004 1010 0505 0001 3M02 606",
    ]) {
      expect(found(`pay to ${iban}.`), iban).toEqual([["iban", iban]]);
    }
  });
});

describe("national ids", () => {
  /** Appends the digit that makes `body` pass `valid`. */
  const complete = (body: string, valid: (d: string) => boolean): string => {
    for (let d = 0; d < 10; d++) if (valid(body + d)) return body + d;
    throw new Error(`no check digit for ${body}`);
  };

  it("finds UK National Insurance numbers, spaced or not, and rejects unallocated prefixes", () => {
    expect(found("NI number AB 12 34 56 C on file")).toEqual([["uk_nino", "AB 12 34 56 C"]]);
    expect(found("nino: AB123456D")).toEqual([["uk_nino", "AB123456D"]]);
    for (const text of [
      "GB123456A",
      "QQ123456E",
      "DQ123456A",
      "QO123456A",
      "QQ 1234 56 C",
      "ab123456c",
    ]) {
      expect(typesIn(text), text).not.toContain("uk_nino");
    }
  });

  it("finds US SSNs with dashes, spaces or dots", () => {
    expect(found("ssn 123 45 6789")).toEqual([["us_ssn", "123 45 6789"]]);
    expect(found("ssn 123.45.6789")).toEqual([["us_ssn", "123.45.6789"]]);
    expect(typesIn("ssn 123-45 6789")).not.toContain("us_ssn");
  });

  it("finds a Canadian SIN (Luhn) next to its name, and not without", () => {
    const sin = complete("12345678", (d) => luhnValid(d, 0, 9));
    const grouped = `${sin.slice(0, 3)} ${sin.slice(3, 6)} ${sin.slice(6)}`;
    expect(found(`SIN: ${grouped}`)).toEqual([["ca_sin", grouped]]);
    expect(found(grouped, "sin")).toEqual([["ca_sin", grouped]]);
    expect(typesIn(`order ${grouped}`)).not.toContain("ca_sin");
  });

  it("finds a Dutch BSN (elfproef) next to its name", () => {
    const bsn = "111222333"; // 9+8+7+12+10+8+9+6 − 3 = 66, a multiple of 11
    expect(found(`BSN ${bsn}`)).toEqual([["nl_bsn", bsn]]);
    expect(found(`BSN 111222334`)).toEqual([]);
  });

  it("finds an Indian Aadhaar number (Verhoeff), grouped or named", () => {
    const aadhaar = complete("23456789012", (d) => verhoeffValid(d));
    const grouped = `${aadhaar.slice(0, 4)} ${aadhaar.slice(4, 8)} ${aadhaar.slice(8)}`;
    expect(found(`id ${grouped}`)).toEqual([["in_aadhaar", grouped]]);
    expect(found(`aadhaar ${aadhaar}`)).toEqual([["in_aadhaar", aadhaar]]);
    const wrong = aadhaar.slice(0, 11) + ((Number(aadhaar[11]) + 1) % 10);
    expect(typesIn(`aadhaar ${wrong}`)).not.toContain("in_aadhaar");
  });

  it("as the requester: finds a US ITIN (9xx, group 50–65, 70–88, 90–92, 94–99), grouped or named", () => {
    for (const group of ["50", "65", "70", "88", "90", "94", "99"]) {
      const itin = ["912", group, "3456"].join("-");
      expect(found(`taxpayer ${itin} on file`), itin).toEqual([["us_itin", itin]]);
    }
    const spaced = ["912", "78", "3456"].join(" ");
    expect(found(`id ${spaced}`)).toEqual([["us_itin", spaced]]);
    const bare = ["912", "78", "3456"].join("");
    expect(found(`ITIN ${bare}`)).toEqual([["us_itin", bare]]);
    expect(found(bare, "itin")).toEqual([["us_itin", bare]]);
    expect(found(bare, "note")).toEqual([]);
    for (const group of ["49", "66", "89", "93"]) {
      const text = `taxpayer ${["912", group, "3456"].join("-")}`;
      expect(typesIn(text), text).not.toContain("us_itin");
    }
  });

  it("as the requester: finds a UK NHS number (modulus 11), grouped 3-3-4 or named", () => {
    const nhsValid = (d: string): boolean => {
      if (d.length !== 10) return false;
      let sum = 0;
      for (let i = 0; i < 9; i++) sum += (10 - i) * Number(d[i]);
      const check = 11 - (sum % 11);
      return check !== 10 && (check === 11 ? 0 : check) === Number(d[9]);
    };
    const nhs = complete("943476591", nhsValid);
    const grouped = `${nhs.slice(0, 3)} ${nhs.slice(3, 6)} ${nhs.slice(6)}`;
    expect(found(`patient ${grouped} seen`)).toEqual([["uk_nhs", grouped]]);
    const dashed = grouped.replaceAll(" ", "-");
    expect(found(`patient ${dashed}`)).toEqual([["uk_nhs", dashed]]);
    expect(found(`NHS number: ${nhs}`)).toEqual([["uk_nhs", nhs]]);
    expect(found(nhs, "nhs_number")).toEqual([["uk_nhs", nhs]]);
    expect(found(nhs, "note")).toEqual([]);
    const wrong = nhs.slice(0, 9) + ((Number(nhs[9]) + 1) % 10);
    expect(typesIn(`NHS number: ${wrong}`)).not.toContain("uk_nhs");
  });
});

describe("us ssn", () => {
  it("finds valid numbers", () => {
    expect(found("ssn 123-45-6789.")).toEqual([["us_ssn", "123-45-6789"]]);
    expect(found("123456789", "ssn")).toEqual([["us_ssn", "123456789"]]);
    expect(found("123456789", "socialSecurityNumber")).toEqual([["us_ssn", "123456789"]]);
  });

  it("as the requester: finds an SSN without separators that prose names as one", () => {
    const ssn = ["219", "09", "9999"].join("");
    for (const text of [
      `SSN ${ssn}`,
      `my ssn is ${ssn}.`,
      `SSN: ${ssn}`,
      `Social Security number ${ssn}`,
      `social-security #${ssn}`,
    ]) {
      expect(found(text), text).toEqual([["us_ssn", ssn]]);
    }
  });

  it("leaves nine digits alone when no SSN is named, or when they are not a whole number", () => {
    const ssn = ["219", "09", "9999"].join("");
    for (const text of [
      `order ${ssn}`,
      `ssn ${ssn}0`,
      `ssn x${ssn}`,
      `ssn ${["000", "09", "9999"].join("")}`,
      `ssnumber ${ssn}`,
    ]) {
      expect(typesIn(text), text).not.toContain("us_ssn");
    }
  });

  it("rejects numbers never issued and other dash-separated numbers", () => {
    for (const text of [
      "000-12-3456",
      "666-12-3456",
      "900-12-3456",
      "123-00-6789",
      "123-45-0000",
      "2024-01-15",
      "ref 1123-45-6789",
      "123-45-67890",
    ]) {
      expect(typesIn(text), text).not.toContain("us_ssn");
    }
    expect(found("123456789", "order_id")).toEqual([]);
  });
});

describe("ip address", () => {
  it("finds IPv4 addresses, with ports and prefixes", () => {
    expect(found("from 192.0.2.10 to 198.51.100.7:8080 via 203.0.113.0/24.")).toEqual([
      ["ip_address", "192.0.2.10"],
      ["ip_address", "198.51.100.7"],
      ["ip_address", "203.0.113.0"],
    ]);
  });

  it("treats a dotted quad as an address unless its context makes it a version or an OID", () => {
    expect(found("connect to 1.2.3.4 now")).toEqual([["ip_address", "1.2.3.4"]]);
    expect(found("http://10.0.0.1/health")).toEqual([["ip_address", "10.0.0.1"]]);
    // A path segment before the address is not a product token (findings' paths are masked).
    expect(found("/params/11.0.0.1")).toEqual([["ip_address", "11.0.0.1"]]);
    expect(found("hosts/10.0.0.1")).toEqual([["ip_address", "10.0.0.1"]]);
    for (const text of [
      "version 1.2.3.4",
      "Version/17.1.2.3 Safari/605.1.15",
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0.6099.109 Safari/537.36",
      "Chrome/120.0.0.0",
      "build: 10.0.19045.3",
      "OID 2.5.4.3",
      "oid=1.3.6.1.4.1.311",
      "v1.2.3.4",
    ]) {
      expect(typesIn(text), text).not.toContain("ip_address");
    }
  });

  it("includes an IPv6 zone id in the address", () => {
    expect(found("ping fe80::1ff:fe23:4567:890a%eth0 now")).toEqual([
      ["ip_address", "fe80::1ff:fe23:4567:890a%eth0"],
    ]);
    expect(found("fe80::1%25en0")).toEqual([["ip_address", "fe80::1%25en0"]]);
  });

  it("finds IPv6 in common forms", () => {
    expect(found("host 2001:db8::1, [2001:db8:85a3::8a2e:370:7334]:443.")).toEqual([
      ["ip_address", "2001:db8::1"],
      ["ip_address", "2001:db8:85a3::8a2e:370:7334"],
    ]);
    expect(found("2001:0db8:0000:0000:0000:ff00:0042:8329")).toEqual([
      ["ip_address", "2001:0db8:0000:0000:0000:ff00:0042:8329"],
    ]);
    expect(found("fe80::1%eth0")).toEqual([["ip_address", "fe80::1%eth0"]]);
    // The IPv4-mapped form is one address, not an IPv6 and an IPv4.
    expect(found("::ffff:192.0.2.1")).toEqual([["ip_address", "::ffff:192.0.2.1"]]);
  });

  it("ignores versions, times, MAC addresses and C++ names", () => {
    for (const text of [
      "1.2.3",
      "v1.2.3.4",
      "1.2.3.4.5",
      "256.1.1.1",
      "01.02.03.04",
      "10:30:00",
      "2024-01-15T10:30:00.123Z",
      "00:1a:2b:3c:4d:5e",
      "std::vector<int>",
      "a::b",
      "::1",
      "deadbeef:cafe",
    ]) {
      expect(typesIn(text), text).not.toContain("ip_address");
    }
  });
});

// ---- secrets ----------------------------------------------------------------------------------

describe("jwt", () => {
  it("finds signed and unsigned tokens, exactly", () => {
    expect(found(`token ${FAKE.jwtSigned} end`)).toEqual([["jwt", FAKE.jwtSigned]]);
    expect(found(`t=${FAKE.jwtNone}`)).toEqual([["jwt", FAKE.jwtNone]]);
  });

  it("is reported as a jwt, not a generic secret, after Authorization: Bearer", () => {
    expect(found(`Authorization: Bearer ${FAKE.jwtSigned}`)).toEqual([["jwt", FAKE.jwtSigned]]);
  });

  it("requires a JSON header with alg", () => {
    const notJson = `${b64url("{not json at all}")}.${b64url("payload")}.sig`;
    const noAlg = `${b64url('{"typ":"JWT","x":1}')}.${b64url("{}")}.sig`;
    expect(typesIn(notJson)).not.toContain("jwt");
    expect(typesIn(noAlg)).not.toContain("jwt");
    expect(typesIn("eyJhbGciOi")).toEqual([]);
  });
});

describe("private key", () => {
  it("covers PEM and OpenSSH blocks from BEGIN through END", () => {
    for (const label of [
      "PRIVATE",
      "RSA PRIVATE",
      "EC PRIVATE",
      "OPENSSH PRIVATE",
      "ENCRYPTED PRIVATE",
    ]) {
      const key = pem(label);
      expect(found(`key:\n${key}\nrest`)).toEqual([["private_key", key]]);
    }
  });

  it("works on JSON-escaped newlines and on a truncated key", () => {
    const escaped = pem("PRIVATE").replace(/\n/g, "\\n");
    expect(found(`{"k": "${escaped}"}`)).toEqual([["private_key", escaped]]);
    const truncated = "-----BEGIN " + "PRIVATE KEY-----\nFAKEFAKEFAKE\nfakefake";
    expect(found(truncated + "\n")).toEqual([["private_key", truncated]]);
  });

  it("ignores public keys and certificates", () => {
    expect(typesIn("-----BEGIN PUBLIC KEY-----\nFAKE\n-----END PUBLIC KEY-----")).toEqual([]);
    expect(typesIn("-----BEGIN CERTIFICATE-----\nFAKE\n-----END CERTIFICATE-----")).toEqual([]);
  });
});

describe("provider tokens", () => {
  it.each([
    ["aws_access_key", FAKE.awsAccess],
    ["aws_access_key", FAKE.awsSession],
    ["github_token", FAKE.github],
    ["github_token", FAKE.githubOauth],
    ["github_token", FAKE.githubPat],
    ["slack_token", FAKE.slack],
    ["slack_token", FAKE.slackWebhook],
    ["stripe_key", FAKE.stripe],
    ["stripe_key", FAKE.stripeRestricted],
    ["google_api_key", FAKE.google],
  ] as [FindingType, string][])("%s: exact span in text", (type, token) => {
    expect(found(`export X="${token}"; echo done`)).toEqual([[type, token]]);
    expect(found(token)).toEqual([[type, token]]);
  });

  it("ignores look-alikes", () => {
    for (const text of [
      "AKIA" + "FAKE",
      "XAKIA" + "FAKEFAKEFAKEFAKE",
      "gh" + "p_" + "short",
      "pk_" + "live_" + "FAKEFAKEFAKEFAKE1234", // publishable, not secret
      "sk_" + "live_" + "short",
      "AI" + "za" + "tooShort",
      "xox" + "b-" + "1",
    ]) {
      expect(typesIn(text), text).toEqual([]);
    }
  });

  it("finds an AWS secret key only next to an AWS-like name", () => {
    expect(found(`aws_secret_access_key = ${FAKE.awsSecret}`)).toEqual([
      ["aws_secret_key", FAKE.awsSecret],
    ]);
    expect(found(`{"SecretAccessKey": "${FAKE.awsSecret}"}`)).toEqual([
      ["aws_secret_key", FAKE.awsSecret],
    ]);
    expect(found(FAKE.awsSecret, "AWS_SECRET_ACCESS_KEY")).toEqual([
      ["aws_secret_key", FAKE.awsSecret],
    ]);
    // A 40-character git SHA on its own is not a key.
    expect(found("commit 0123456789abcdef0123456789abcdef01234567")).toEqual([]);
  });
});

describe("provider tokens generated from gitleaks' rules", () => {
  // Built from each provider's documented prefix plus generated characters.
  const tokens: [FindingType, string][] = [
    ["anthropic_token", "sk-ant-" + "api03-" + chars(ALNUM + "_-", 93) + "AA"],
    ["gitlab_token", "glpat-" + chars(ALNUM, 20)],
    ["npm_token", "npm_" + chars(ALNUM, 36)],
    ["pypi_token", "pypi-" + "AgEIcHlwaS5vcmc" + chars(ALNUM, 60)],
    [
      "huggingface_token",
      "hf_" + chars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", 34),
    ],
    ["sendgrid_token", "SG." + chars(ALNUM, 22) + "." + chars(ALNUM, 43)],
    ["digitalocean_token", "dop_" + "v1_" + chars(HEX, 64)],
    ["shopify_token", "shpat_" + chars(HEX, 32)],
    ["twilio_token", "SK" + chars(HEX, 32)],
    ["doppler_token", "dp.pt." + chars(ALNUM, 43)],
    ["openai_token", "sk-" + "proj-" + chars(ALNUM, 74) + "T3Blbk" + "FJ" + chars(ALNUM, 74, 9)],
    ["postman_token", "PMAK-" + chars(HEX, 24) + "-" + chars(HEX, 34, 3)],
  ];

  it.each(tokens)("%s: exact span inside an assignment and inside prose", (type, token) => {
    expect(found(`export KEY_1="${token}"`)).toEqual([[type, token]]);
    expect(found(`please use ${token} for the deploy`)).toEqual([[type, token]]);
  });

  it("reports the families gitleaks covers as finding types", () => {
    for (const t of [
      "gitlab_token",
      "openai_token",
      "anthropic_token",
      "npm_token",
      "vault_token",
    ]) {
      expect(FINDING_TYPES).toContain(t);
    }
  });

  it("applies gitleaks' entropy thresholds and keywords (near misses stay clear)", () => {
    expect(found("glpat-" + "a".repeat(20))).toEqual([]); // below the entropy threshold
    expect(found("dop_" + "v1_" + "0".repeat(64))).toEqual([]);
    expect(found("shpat_" + chars(HEX, 31))).toEqual([]); // one short
    expect(found("the task is done, ask the desk")).toEqual([]); // keyword "sk" alone
  });
});

describe("generic secret", () => {
  it("finds an Azure storage account key in a connection string", () => {
    const key = chars(ALNUM + "+/", 86) + "==";
    const conn =
      "DefaultEndpointsProtocol=https;AccountName=fakeacct;" +
      `AccountKey=${key};EndpointSuffix=core.windows.net`;
    expect(found(conn)).toEqual([["generic_secret", key]]);
    expect(found(`account_key: ${key}`)).toEqual([["generic_secret", key]]);
  });

  it("finds the signature of signed URLs (Azure SAS, AWS and GCS presigned), still encoded", () => {
    const sig = encodeURIComponent(chars(ALNUM + "+/", 43) + "=");
    const sas =
      "https://fakeacct.blob.core.windows.net/c/b.bak?sv=2022-11-02&ss=b&sp=r" +
      `&se=2030-01-01T00:00:00Z&spr=https&sig=${sig}`;
    expect(found(`get ${sas} now`)).toEqual([["generic_secret", sig]]);
    const hex = chars(HEX, 64);
    const aws =
      "https://bucket.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256" +
      `&X-Amz-Expires=900&X-Amz-Signature=${hex}`;
    expect(found(aws)).toEqual([["generic_secret", hex]]);
    const gcs = `https://storage.googleapis.com/b/o?X-Goog-Expires=900&X-Goog-Signature=${hex}`;
    expect(found(gcs)).toEqual([["generic_secret", hex]]);
    // Not a signature: too short, a placeholder, or not a query parameter.
    expect(found("https://example.com/?sig=abc")).toEqual([]);
    expect(found("https://example.com/?sig=<your-signature-here>")).toEqual([]);
    expect(found("the signature=verified upstream")).toEqual([]);
  });

  it("takes the whole value under a key-like key name", () => {
    for (const key of [
      "password",
      "dbPassword",
      "DB_PASS",
      "x-api-key",
      "apiKey",
      "client_secret",
      "GITHUB_TOKEN",
      "authToken",
      "Authorization",
      "credentials",
      "privateKey",
      "pgpassword",
    ]) {
      expect(found("Zq7!fake-Value", key), key).toEqual([["generic_secret", "Zq7!fake-Value"]]);
    }
    // Password-like names: six characters are enough, and digits-only still counts.
    expect(found("hunter", "password")).toEqual([["generic_secret", "hunter"]]);
    expect(found("20240115", "pin_password")).toEqual([["generic_secret", "20240115"]]);
  });

  it("keeps UUIDs, git SHAs, timestamps and identifiers out of free-text key=value", () => {
    for (const text of [
      "token_id=123e4567-e89b-12d3-a456-426614174000",
      "auth_request: 123e4567-e89b-12d3-a456-426614174000",
      "secret_sha=9fceb02d0ae598e95dc970b74767f19372d61af8",
      // (Under a name that ends in a credential, "token: <sha>", the value is masked: providers
      // issue keys in exactly these shapes; see test/detector-gaps.test.ts.)
      "commit: 9fceb02d0ae598e95dc970b74767f19372d61af8",
      "token_created=2024-01-15T10:30:00Z",
      "auth_expiry: 2024-01-15 10:30:00+01:00",
      "auth_provider: GoogleOAuthProvider",
      "tokenizer: sentencepiece_model",
    ]) {
      expect(found(text), text).toEqual([]);
    }
  });

  it("leaves placeholders, booleans, numbers and names about secrets alone", () => {
    const cases: [string, string][] = [
      ["4096", "max_tokens"],
      ["123456789", "api_key"],
      ["Bearer", "token_type"],
      ["********", "password"],
      ["****1234", "password"],
      ["${DB_PASSWORD}", "password"],
      ["{{ secrets.TOKEN }}", "token"],
      ["$GITHUB_TOKEN", "token"],
      ["true", "password"],
      ["<your token here>", "token"],
      ["your-api-key", "api_key"],
      ["[generic_secret]", "password"],
      ["[generic_secret:5d41402abc4b]", "password"],
      ["prod/db-password", "secret_name"],
      ["fake-key-id-0001", "key_id"],
      ["https://oauth2.example.com/token", "token_uri"],
      ["Jane Doe Smith", "author"],
      ["tokenizer-v2-large", "tokenizer"],
      ["short", "api_key"],
      ["arn:aws:secretsmanager:us-east-1:0:secret:x", "db_secret"],
    ];
    for (const [value, key] of cases) expect(found(value, key), `${key}=${value}`).toEqual([]);
  });

  it("as the requester, digits under a secret's or a code's name are a secret", () => {
    const digits = (n: number) =>
      Array.from({ length: n }, (_, i) => String((i * 7 + 3 + n) % 10)).join("");
    for (const [key, n] of [
      ["secret", 8],
      ["api_key", 16],
      ["apiKey", 15],
      ["client_secret", 10],
      ["pin", 4],
      ["card_cvv", 3],
      ["otpCode", 6],
      ["pin_code", 6],
    ] as const) {
      const v = digits(n);
      expect(found(v, key), `${key}=${v}`).toEqual([[expect.any(String), v]]);
    }
    // Not codes: lengths, counts and other numbers under ordinary names.
    expect(found("1234", "pin_length")).toEqual([]);
    expect(found("4821", "spin")).toEqual([]);
  });

  it("as the requester, a GitHub token's body split from its prefix is still a token", () => {
    const body = Array.from({ length: 36 }, (_, i) => "Ab9xQ2mZ7kLp"[(i * 5) % 12]).join("");
    for (const text of [
      `select 'ghp_' || '${body}'`,
      `"ghp_" + "${body}"`,
      `prefix ghp_ then ${body}`,
    ]) {
      expect(found(text), text).toEqual([["github_token", body]]);
    }
    expect(found(`the ghp_ prefix and an unrelated ${"word".repeat(9)}`)).toEqual([]);
  });

  it("finds values after key-like names in free text, covering only the value", () => {
    expect(found("password=hunter2x&user=bob")).toEqual([["generic_secret", "hunter2x"]]);
    expect(found("PGPASSWORD=Pa55-fake export")).toEqual([["generic_secret", "Pa55-fake"]]);
    expect(found("api_key: 'Zx9fakeFAKE12'")).toEqual([["generic_secret", "Zx9fakeFAKE12"]]);
    expect(found('{"client_secret": "Qm9fakeFAKE2x", "client_id": "abc"}')).toEqual([
      ["generic_secret", "Qm9fakeFAKE2x"],
    ]);
    expect(found('{\\"password\\": \\"hunter2-fake\\"}')).toEqual([
      ["generic_secret", "hunter2-fake"],
    ]);
    expect(found("spring.datasource.password = s3cret-fake")).toEqual([
      ["generic_secret", "s3cret-fake"],
    ]);
    expect(found("curl -H 'X-Api-Key: ak_FAKE0fake1FAKE2'")).toEqual([
      ["generic_secret", "ak_FAKE0fake1FAKE2"],
    ]);
  });

  it("ends a bare value at ;, and at a & or , that ends a list item or a command", () => {
    expect(found("password=Fake0P@ss&user=bob")).toEqual([["generic_secret", "Fake0P@ss"]]);
    expect(found("password=P@ss&word-fake!")).toEqual([["generic_secret", "P@ss&word-fake!"]]);
    expect(found("password=Fake0P@ss&& make")).toEqual([["generic_secret", "Fake0P@ss"]]);
    expect(found("password=Fake0P@ss;x")).toEqual([["generic_secret", "Fake0P@ss"]]);
    expect(found("password=P@ss,word-fake!")).toEqual([["generic_secret", "P@ss,word-fake!"]]);
    expect(found("password=Fake0P@ss, user=bob")).toEqual([["generic_secret", "Fake0P@ss"]]);
    expect(found("?token=Zx9fakeFAKE12&state=abc")).toEqual([["generic_secret", "Zx9fakeFAKE12"]]);
    expect(found("Server=db;Password=Fake0Pass;Database=prod")).toEqual([
      ["generic_secret", "Fake0Pass"],
    ]);
    expect(found("session_token=Fake0Cookie1; Path=/; HttpOnly")).toEqual([
      ["generic_secret", "Fake0Cookie1"],
    ]);
  });

  it("stops an unclosed quoted value at its line's end", () => {
    expect(found('log: password: "hunter2-fake\nnext line')).toEqual([
      ["generic_secret", "hunter2-fake"],
    ]);
  });

  it("as the requester: an unclosed quote never makes a mask run over the rest of the line", () => {
    // The tail after the secret is a second statement: it must stay visible to the reviewer.
    const secret = "Fake0" + "Pass" + "9x";
    for (const q of [
      `UPDATE users SET password = '${secret}; DROP TABLE audit; --`,
      `UPDATE users SET password = '${secret} ; DROP TABLE audit; --`,
      `psql -c "ALTER ROLE app PASSWORD '${secret}; DROP TABLE audit"`,
      `password="${secret}&& DROP TABLE audit`,
      `pwd=${secret};DROP TABLE audit`,
      `token: \`${secret}, DROP TABLE audit`,
    ]) {
      const spans = detectInString(q);
      expect(spans.length, q).toBeGreaterThan(0);
      for (const s of spans) {
        const masked = q.slice(s.start, s.end);
        expect(masked, q).not.toMatch(/[\s;&,]/);
        expect(masked.startsWith(secret), q).toBe(true);
      }
      expect(q.slice((spans.at(-1) as { end: number }).end)).toContain("DROP TABLE audit");
    }
  });

  it("recognises assignments in every common syntax, covering only the value", () => {
    const v = "Fake0" + "Secret" + "7q";
    for (const text of [
      `password=${v}`,
      `password: ${v}`,
      `password := "${v}"`,
      `$password => '${v}'`,
      `password ::= ${v}`,
      `PASSWORD ?= ${v}`,
      `export DB_PASSWORD=${v}`,
      `db_password = "${v}"  # toml`,
      `<connection password="${v}" user="app"/>`,
      `<password>${v}</password>`,
      `<add key="ClearTextPassword" value="${v}" />`,
      `{"api_key": "${v}"}`,
      `api_key: '${v}'`,
      `Server=db;Uid=app;Pwd=${v};Database=prod`,
      `Driver={ODBC};PWD={${v}};UID=app`,
      `jdbc:mysql://db.example.com/prod?user=app&password=${v}&ssl=true`,
    ]) {
      expect(found(text), text).toEqual([["generic_secret", v]]);
    }
  });

  it("finds passwords in prose, not ordinary words after 'password is'", () => {
    const v = "Fake0" + "Pr0se!";
    expect(found(`the password is ${v} for now`)).toEqual([["generic_secret", v]]);
    expect(found(`My password for the vpn is: ${v}`)).toEqual([["generic_secret", v]]);
    expect(found(`pwd: ${v}`)).toEqual([["generic_secret", v]]);
    expect(found("the password is incorrect")).toEqual([]);
    expect(found("password is required")).toEqual([]);
  });

  it("finds cookie values in Cookie and Set-Cookie headers, not names or attributes", () => {
    const a = "Fake0" + "Sess1on9";
    const b = "Fake1" + "Csrf2x7";
    expect(found(`Cookie: sid=${a}; csrftoken=${b}`)).toEqual([
      ["generic_secret", a],
      ["generic_secret", b],
    ]);
    expect(found(`Set-Cookie: sid=${a}; Path=/; HttpOnly; SameSite=Strict`)).toEqual([
      ["generic_secret", a],
    ]);
  });

  it("finds credentials in connection-string URLs of every scheme", () => {
    const p = "Fake0" + "Url9pw";
    for (const scheme of [
      "postgres",
      "postgresql",
      "mysql",
      "mongodb+srv",
      "redis",
      "rediss",
      "amqp",
      "amqps",
      "ftp",
      "https",
    ]) {
      const url = `${scheme}://app:${p}@db.example.com:5432/prod?ssl=true`;
      expect(found(url), url).toEqual([["generic_secret", p]]);
    }
  });

  it("does not flag Interlock's own placeholders again", () => {
    expect(found("password=[generic_secret] token: [generic_secret:5d41402abc4b]")).toEqual([]);
    expect(found("[email:5d41402abc4b] [payment_card …4242]")).toEqual([]);
  });

  it("covers only the credential after Authorization: Bearer/Basic/token", () => {
    expect(found("Authorization: Bearer abc.DEF-123_fake987")).toEqual([
      ["generic_secret", "abc.DEF-123_fake987"],
    ]);
    expect(found('"Authorization": "Basic ZmFrZTpmYWtlLWZha2U="')).toEqual([
      ["generic_secret", "ZmFrZTpmYWtlLWZha2U="],
    ]);
    expect(found(`curl -H "Authorization: token ${FAKE.github}"`)).toEqual([
      ["github_token", FAKE.github],
    ]);
    expect(found("sent with Bearer Zm9vFAKEbar123 header")).toEqual([
      ["generic_secret", "Zm9vFAKEbar123"],
    ]);
  });

  it("finds the password in URL userinfo and nothing else of the URL", () => {
    const url = "postgres://alice:s3cr3t-fake@db.example.com:5432/prod";
    expect(found(url)).toEqual([["generic_secret", "s3cr3t-fake"]]);
    expect(found("redis://:Fake0Pass@cache.example.com")).toEqual([
      ["generic_secret", "Fake0Pass"],
    ]);
    expect(found("https://user:****@example.com")).toEqual([]);
    expect(found("https://example.com/a:b@c")).toEqual([]);
  });

  it("does not flag prose, identifiers or names about secrets", () => {
    for (const text of [
      "reason: Weekly churn analysis",
      "reason: rotate the token: expired yesterday",
      "Enter your password: ********",
      "password reset link sent",
      "max_tokens=4096",
      "token_type: Bearer",
      "auth: disabled_by_admin",
      "author: Jane Doe",
      "secret_name: prod/db",
      "password_policy: strong-and-long",
      "the bearer of this letter",
      "password=${DB_PASSWORD}",
      "token=<redacted>",
      "key: customer_id",
      "passenger: Alice Example",
    ]) {
      expect(found(text), text).toEqual([]);
    }
  });

  it("scores values by length, entropy and character mix", () => {
    expect(shannonEntropy("aaaa")).toBe(0);
    expect(shannonEntropy("abcd")).toBe(2);
    expect(looksSecret("Zx9fakeFAKE12", false)).toBe(true);
    expect(looksSecret("disabled_by_admin", false)).toBe(false);
    expect(looksSecret("CryptoKey", false)).toBe(false);
    expect(looksSecret("URLPatternComponentResult", false)).toBe(false);
    expect(looksSecret("text.substring", false)).toBe(false);
    expect(looksSecret("aaaaaaaaaasiOunHFvZK", false)).toBe(true);
    expect(looksSecret("aaaaaaaaaa9Zx*", false)).toBe(true);
    expect(looksSecret("hunter", true)).toBe(true);
    expect(looksSecret("hunt", true)).toBe(false);
    expect(isPlaceholder("xxxx-xxxx-xxxx")).toBe(true);
    expect(isPlaceholder("Zx9fakeFAKE12")).toBe(false);
  });

  it("splits key names into words", () => {
    expect(keyWords("dbPassword2")).toEqual(["db", "password"]);
    expect(keyWords("APIKey")).toEqual(["api", "key"]);
    expect(keyWords("x-api-key")).toEqual(["x", "api", "key"]);
    expect(keyWords("AWS_SECRET_ACCESS_KEY")).toEqual(["aws", "secret", "access", "key"]);
  });
});

// ---- combining --------------------------------------------------------------------------------

describe("overlaps", () => {
  it("prefers a secret over personal data", () => {
    // The URL password also looks like the local part of an address.
    expect(found("mysql://root:Fake0Pass@db.example.com/x")).toEqual([
      ["generic_secret", "Fake0Pass"],
    ]);
  });

  it("prefers the longer span of the same kind", () => {
    expect(found("::ffff:198.51.100.7")).toEqual([["ip_address", "::ffff:198.51.100.7"]]);
  });

  it("prefers the specific detector when a key-like name covers the same value", () => {
    expect(found(FAKE.github, "github_token")).toEqual([["github_token", FAKE.github]]);
    expect(found(FAKE.stripe, "stripe_secret")).toEqual([["stripe_key", FAKE.stripe]]);
  });

  it("returns sorted, non-overlapping spans for a mixed request", () => {
    const text = [
      "jane@example.com",
      "(202) 555-0147",
      "4242 4242 4242 4242",
      "GB82 WEST 1234 5698 7654 32",
      "123-45-6789",
      "192.0.2.1",
      FAKE.jwtSigned,
      FAKE.awsAccess,
      FAKE.github,
      FAKE.slack,
      FAKE.stripe,
      FAKE.google,
      "password=hunter2-fake",
    ].join(" | ");
    expect(typesIn(text)).toEqual([
      "email",
      "phone",
      "payment_card",
      "iban",
      "us_ssn",
      "ip_address",
      "jwt",
      "aws_access_key",
      "github_token",
      "slack_token",
      "stripe_key",
      "google_api_key",
      "generic_secret",
    ]);
  });

  it("keeps spans in bounds, sorted and disjoint for any input", () => {
    const pieces = fc.constantFrom(
      "jane@example.com",
      "4242 4242 4242 4242",
      "192.0.2.1",
      "2001:db8::1",
      "password=",
      "token: ",
      "Bearer ",
      "://u:",
      "@",
      ":",
      "-",
      " ",
      ".",
      "'",
      '"',
      "GB82 WEST",
      "eyJ",
      FAKE.github,
      FAKE.jwtNone,
    );
    const text = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc
        .array(fc.oneof(pieces, fc.string({ maxLength: 6 })), { maxLength: 20 })
        .map((a) => a.join("")),
    );
    fc.assert(
      fc.property(
        text,
        fc.option(fc.constantFrom("password", "phone", "ssn", "note")),
        (t, key) => {
          const spans = detectInString(t, key ?? undefined);
          let last = 0;
          for (const s of spans) {
            expect(s.start).toBeGreaterThanOrEqual(last);
            expect(s.end).toBeGreaterThan(s.start);
            expect(s.end).toBeLessThanOrEqual(t.length);
            last = s.end;
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

// ---- ordinary content -------------------------------------------------------------------------

describe("ordinary content", () => {
  it("finds nothing in everyday request text", () => {
    for (const text of [
      "2024-01-15",
      "2024-01-15T10:30:00.000Z",
      "Mon, 15 Jan 2024 10:30:00 GMT",
      "123e4567-e89b-12d3-a456-426614174000", // UUID
      "01ARZ3NDEKTSV4RRFFQ69G5FAV", // ULID
      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b", // git SHA
      "s3://analytics-exports/churn/2024/01/part-0001.parquet",
      "SELECT id, name FROM orders WHERE created_at > NOW() - INTERVAL '7 days' LIMIT 100",
      "db.export",
      "postgres://prod/customers",
      "agent:etl-bot",
      "v1.2.3-beta.4",
      "1.2.3",
      "order #100234 total 12.50 EUR",
      "count 12345678",
      "ttl: 24h",
      "Weekly churn analysis for the EMEA region, see ticket OPS-1234.",
      "image: registry.example.com/team/app:1.4.2",
      "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b9f86d081884c7d659a2feaa0",
      '{"rows": 1200, "cost": 3.14159, "ok": true, "tags": ["a", "b"]}',
      "https://example.com/docs?page=2&sort=asc#top",
      "key: customer_id, sort_key: created_at",
    ]) {
      expect(found(text), text).toEqual([]);
    }
  });

  it("masks only the sensitive parts of a realistic request", () => {
    const params = JSON.stringify({
      query: "select * from customers where email = 'jane@example.com'",
      destination: "s3://analytics-exports/churn/",
      reason: "Weekly churn analysis",
      db_url: "postgres://etl:Fake0Pass@db.example.com/prod",
    });
    expect(found(params)).toEqual([
      ["email", "jane@example.com"],
      ["generic_secret", "Fake0Pass"],
    ]);
  });
});

// ---- Unicode: detection on a normalised view, spans in the original ----------------------------

describe("unicode", () => {
  const NBSP = "\u00a0";
  const ZWSP = "\u200b";
  const THIN = "\u2009";

  it("normalises for matching: NFKC, invisible characters removed, Unicode spaces as spaces", () => {
    expect(normalizeText("\uff50\uff52\uff4f\uff44")).toBe("prod"); // full-width
    expect(normalizeText(`pr${ZWSP}od`)).toBe("prod");
    expect(normalizeText(`a${NBSP}b${THIN}c`)).toBe("a b c");
    expect(normalizeText("e\u0301")).toBe("\u00e9");
    const view = normalizedView(`x${ZWSP}\ufb01y`); // "x", zero-width, "ﬁ" ligature, "y"
    expect(view.text).toBe("xfiy");
    expect(view.toOriginal(1, 3)).toEqual([2, 3]);
    expect(view.toOriginal(0, 4)).toEqual([0, 4]);
  });

  it("as the requester: a zero-width or full-width character does not hide a token", () => {
    const token = FAKE.github;
    const hidden = token.slice(0, 2) + ZWSP + token.slice(2);
    const text = `token ${hidden} here`;
    const spans = detectInString(text);
    expect(spans.map((s) => [s.type, text.slice(s.start, s.end)])).toEqual([
      ["github_token", hidden],
    ]);
    const wide =
      [...token.slice(0, 4)].map((c) => String.fromCodePoint(c.codePointAt(0)! + 0xfee0)).join("") +
      token.slice(4);
    expect(found(`use ${wide}`)).toEqual([["github_token", wide]]);
  });

  it("finds cards and phones spaced with no-break, thin or zero-width spaces, or dots", () => {
    for (const sep of [NBSP, THIN, ZWSP, " " + ZWSP, ".", "\u202f"]) {
      const card = ["4242", "4242", "4242", "4242"].join(sep);
      expect(found(`card ${card} ok`), JSON.stringify(sep)).toEqual([["payment_card", card]]);
    }
    const phone = `+44${NBSP}20${NBSP}7946${NBSP}0958`;
    expect(found(`call ${phone}`)).toEqual([["phone", phone]]);
  });

  it("finds an e-mail address written with a full-width @", () => {
    const mail = "jane\uff20example.com";
    expect(found(`mail ${mail}`)).toEqual([["email", mail]]);
  });
});

// ---- encoded payloads -------------------------------------------------------------------------

describe("encoded payloads", () => {
  const pw = "password=" + "Fake0" + "Pass9x";
  const b64 = (s: string): string => Buffer.from(s).toString("base64");

  it("finds a secret inside base64 (standard and URL-safe) and hex, masking the whole run", () => {
    for (const enc of [
      b64(pw),
      Buffer.from(`{"token":"${FAKE.github}"}`).toString("base64url"),
      Buffer.from(pw).toString("hex"),
    ]) {
      const text = `data: ${enc} end`;
      const spans = detectInString(text);
      expect(spans.length, enc).toBe(1);
      expect(text.slice(spans[0]!.start, spans[0]!.end)).toBe(enc);
      expect(spans[0]!.kind).toBe("secret");
    }
  });

  it("decodes hex whose text has tabs and line breaks (in upper and lower case), not hex of control bytes", () => {
    // Hex digits are read pair by pair before decoding: 09, 0a and 0d are text, other bytes
    // below 0x20 are not.
    for (const text of [`\t${pw}\r\n`, `a\tb\n${pw}`]) {
      for (const enc of [
        Buffer.from(text).toString("hex"),
        Buffer.from(text).toString("hex").toUpperCase(),
      ]) {
        const spans = detectInString(`x ${enc} y`);
        expect(
          spans.map((s) => s.kind),
          enc,
        ).toEqual(["secret"]);
      }
    }
    const control = Buffer.from(`\u0001${pw}`).toString("hex");
    expect(detectInString(`x ${control} y`), control).toEqual([]);
  });

  it("finds a secret in URL-encoded text, on the original range", () => {
    const text = "q=" + encodeURIComponent(`login?user=bob&password=Fake0Pass9x&x=1`);
    const spans = detectInString(text);
    expect(spans.map((s) => text.slice(s.start, s.end))).toEqual(["Fake0Pass9x"]);
    const mail = "https://example.com/?to=jane%40example.com";
    expect(found(mail)).toEqual([["email", "jane%40example.com"]]);
  });

  it("decodes payloads inside payloads, and fails closed beyond the depth bound", () => {
    const twice = b64(b64(pw));
    expect(typesIn(`x ${twice}`)).toEqual(["generic_secret"]);
    let deep = pw;
    for (let i = 0; i < 6; i++) deep = b64(deep);
    const spans = detectInString(deep);
    expect(spans).toEqual([{ type: "encoded", kind: "secret", start: 0, end: deep.length }]);
  });

  it("fails closed on a payload too large to decode that still encodes text", () => {
    const big = b64("lorem ipsum dolor sit amet ".repeat(3000));
    expect(detectInString(big)).toEqual([
      { type: "encoded", kind: "secret", start: 0, end: big.length },
    ]);
  });

  it("finds encoded runs exactly where the documented regex does (hand-written scan)", () => {
    const re = ENCODED_PATTERNS[0] as RegExp;
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(..."aZ09+/_-=. \u00e9"), maxLength: 80 }),
        (t) => {
          const expected = [...t.matchAll(new RegExp(re.source, "g"))].map((m) => [m.index, m[0]]);
          expect(encodedRuns(t)).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("leaves harmless encodings, binary data, hashes and identifiers alone", () => {
    for (const text of [
      b64("nothing to see here, just a sentence"),
      Buffer.from(Array.from({ length: 48 }, (_, i) => (i * 73 + 11) % 256)).toString("base64"),
      "commit 9fceb02d0ae598e95dc970b74767f19372d61af8",
      "id 123e4567-e89b-12d3-a456-426614174000",
      "sha256:" + chars(HEX, 64),
      "getElementsByClassNameAndTagName",
      "100%25 done, 50%20off",
    ]) {
      expect(found(text), text).toEqual([]);
    }
  });
});

describe("the cheap common path", () => {
  it("as the requester: a short value first seen clean under a neutral key is still a secret under a password key", () => {
    const value = "Fake" + "0pw!";
    expect(found(value, "note")).toEqual([]);
    expect(found(value)).toEqual([]);
    expect(found(value, "db_password")).toEqual([["generic_secret", value]]);
    expect(found(value, "note")).toEqual([]);
    const ssn = ["123", "45", "6789"].join("");
    expect(found(ssn, "comment")).toEqual([]);
    expect(found(ssn, "ssn")).toEqual([["us_ssn", ssn]]);
  });

  it("as the requester: the same short text with a finding is found every time, not only the first", () => {
    const mail = "jo" + "@example.com";
    for (let i = 0; i < 3; i++) expect(found(mail)).toEqual([["email", mail]]);
  });

  it("decodes the shortest encoded run worth decoding (16 base64 characters), and only non-ASCII text is normalised", () => {
    const inner = "mail " + "a@b.io" + " ok"; // 14 bytes: 20 base64 characters with padding
    const run = Buffer.from(inner.slice(0, 12)).toString("base64");
    expect(run).toHaveLength(16);
    expect(typesIn(`x ${run} y`)).toEqual(["email"]);
    // One non-ASCII character anywhere switches the normalisation on.
    const zw = "jo@exa\u200bmple.com";
    expect(found(`mail ${zw} é`)).toEqual([["email", zw]]);
  });

  it("stays right after the remembered clean texts overflow their bound and are dropped", () => {
    for (let i = 0; i < 20_000; i++) expect(detectInString(`state-${i}`, "status")).toEqual([]);
    const value = "Fake" + "1pw!";
    expect(found(value, "status")).toEqual([]);
    expect(found(value, "password")).toEqual([["generic_secret", value]]);
  });

  it("skips decoding UUIDs only: a UUID-shaped run of other characters is still decoded", () => {
    const uuid = ["123e4567", "e89b", "12d3", "a456", "426614174000"].join("-");
    expect(found(`request ${uuid} done`)).toEqual([]);
    // A 36-character base64url payload (27 bytes), the length of a UUID, is still decoded.
    const payload = Buffer.from("password=" + "Fake0Pass9x" + " end!!x").toString("base64url");
    expect(payload).toHaveLength(36);
    expect(found(`x ${payload} y`)).toEqual([["generic_secret", payload]]);
  });

  it("finds a percent-encoded secret only present once decoded, after a clean pass of the same prefix", () => {
    expect(found("q=login%3Fuser%3Dbob")).toEqual([]);
    const text = "q=login%3Fpassword%3DFake0Pass9x";
    expect(found(text).map(([t]) => t)).toEqual(["generic_secret"]);
  });
});

describe("crypto wallet addresses", () => {
  const B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  const base58check = (version: number, body: Buffer): string => {
    const payload = Buffer.concat([Buffer.from([version]), body]);
    const check = createHash("sha256")
      .update(createHash("sha256").update(payload).digest())
      .digest()
      .subarray(0, 4);
    const bytes = Buffer.concat([payload, check]);
    let n = BigInt("0x" + bytes.toString("hex"));
    let out = "";
    while (n > 0n) {
      out = B58[Number(n % 58n)] + out;
      n /= 58n;
    }
    for (const b of bytes) {
      if (b !== 0) break;
      out = "1" + out;
    }
    return out;
  };
  const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
  const polymod = (values: number[]): number => {
    const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
    let chk = 1;
    for (const v of values) {
      const top = chk >>> 25;
      chk = ((chk & 0x1ffffff) << 5) ^ v;
      for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GEN[i]!;
    }
    return chk >>> 0;
  };
  const bech32 = (hrp: string, data: number[], constant: number): string => {
    const expand = [...hrp].map((c) => c.charCodeAt(0) >> 5);
    const values = [...expand, 0, ...[...hrp].map((c) => c.charCodeAt(0) & 31), ...data];
    const mod = polymod([...values, 0, 0, 0, 0, 0, 0]) ^ constant;
    const check = [0, 1, 2, 3, 4, 5].map((i) => (mod >>> (5 * (5 - i))) & 31);
    return hrp + "1" + [...data, ...check].map((d) => CHARSET[d]).join("");
  };
  const fiveBit = (bytes: Buffer): number[] => {
    const out: number[] = [];
    let acc = 0;
    let bits = 0;
    for (const b of bytes) {
      acc = (acc << 8) | b;
      bits += 8;
      while (bits >= 5) {
        bits -= 5;
        out.push((acc >>> bits) & 31);
      }
    }
    if (bits > 0) out.push((acc << (5 - bits)) & 31);
    return out;
  };

  it("as the requester: finds Bitcoin addresses (base58check and bech32/bech32m) by their checksum", () => {
    const p2pkh = base58check(0x00, randomBytes(20));
    const p2sh = base58check(0x05, randomBytes(20));
    const segwit = bech32("bc", [0, ...fiveBit(randomBytes(20))], 1);
    const taproot = bech32("bc", [1, ...fiveBit(randomBytes(32))], 0x2bc830a3);
    for (const address of [p2pkh, p2sh, segwit, taproot]) {
      expect(found(`send to ${address} today`), address).toEqual([["crypto_wallet", address]]);
    }
  });

  it("leaves look-alikes with a wrong checksum alone", () => {
    const p2pkh = base58check(0x00, randomBytes(20));
    const last = p2pkh.at(-1) === "z" ? "y" : "z";
    const broken = p2pkh.slice(0, -1) + last;
    expect(typesIn(`send to ${broken}`)).not.toContain("crypto_wallet");
    const segwit = bech32("bc", [0, ...fiveBit(randomBytes(20))], 1);
    const brokenSegwit = segwit.slice(0, -1) + (segwit.at(-1) === "q" ? "p" : "q");
    expect(typesIn(`send to ${brokenSegwit}`)).not.toContain("crypto_wallet");
  });
});
