#!/usr/bin/env node
/**
 * Generates src/masking/providers/gitleaks-rules.generated.ts from gitleaks' own maintained rule
 * file (config/gitleaks.toml of the Go module), so provider token formats follow upstream instead
 * of being copied by hand.
 *
 *   node scripts/gen-provider-rules.mjs [version]      (default: the pinned GITLEAKS_VERSION)
 *
 * The module is fetched through the Go module proxy (`go mod download`). Each rule's RE2 regex
 * is translated to a JavaScript regex (inline case-insensitivity expanded into character
 * classes, POSIX classes, \z, (?s:.), named groups), the semi-generic "keyword … = value"
 * template loses its unbounded-looking left context (only the secret group is masked), and the
 * trailing delimiter becomes a lookahead. Every translated regex (and every allowlist regex that
 * is kept) is then checked with recheck; a rule that cannot be translated or is not linear-time
 * is left out and listed, with the reason, in the generated file and on stderr. Nothing is
 * dropped silently.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { check } from "recheck";

const GITLEAKS_VERSION = process.argv[2] ?? "v8.30.1";
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "src/masking/providers/gitleaks-rules.generated.ts");

/**
 * Rules that Interlock's hand-written detectors cover better, so they are not generated:
 * the reason is written into the generated file.
 */
const SUPERSEDED = {
  "generic-api-key":
    "generic_secret (key-name detector with placeholder, reference and entropy rules)",
  "private-key": "private_key (PEM/OpenSSH detector, also handles truncated and escaped keys)",
  jwt: "jwt (decodes and checks the JOSE header)",
  "pkcs12-file": "a file-path rule: there are no files in a request",
};

/** Finding type for a rule id: existing types where they exist, else "<family>_token". */
const TYPE_OVERRIDES = {
  "aws-access-token": "aws_access_key",
  "gcp-api-key": "google_api_key",
  "jwt-base64": "jwt",
  "curl-auth-header": "generic_secret",
  "curl-auth-user": "generic_secret",
  "nuget-config-password": "generic_secret",
  "hashicorp-tf-password": "generic_secret",
  "kubernetes-secret-yaml": "generic_secret",
  "stripe-access-token": "stripe_key",
};
const FAMILY_OVERRIDES = {
  "1password": "onepassword",
  "new-relic": "newrelic",
  "cisco-meraki": "meraki",
  "hashicorp-tf": "terraform",
  "microsoft-teams": "teams",
  "defined-networking": "nebula",
  "clickhouse-cloud": "clickhouse",
  "contentful-delivery": "contentful",
  "aws-amazon": "aws_bedrock",
  "sidekiq-sensitive": "sidekiq",
};
const EXISTING_FAMILY_TYPES = { github: "github_token", slack: "slack_token" };

function typeFor(id) {
  if (TYPE_OVERRIDES[id]) return TYPE_OVERRIDES[id];
  for (const [prefix, family] of Object.entries(FAMILY_OVERRIDES)) {
    if (id.startsWith(prefix + "-")) return `${family}_token`;
  }
  const family = id.split("-")[0];
  return EXISTING_FAMILY_TYPES[family] ?? `${family}_token`;
}

// ---- TOML (the subset gitleaks.toml uses) ------------------------------------------------------

function parseToml(text) {
  const root = {};
  let table = root;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "" || line.startsWith("#")) continue;
    let m;
    if ((m = /^\[\[([\w.]+)\]\]$/.exec(line))) {
      const path = m[1].split(".");
      let parent = root;
      for (const p of path.slice(0, -1)) {
        const v = parent[p];
        parent = Array.isArray(v) ? v[v.length - 1] : v;
      }
      const key = path[path.length - 1];
      (parent[key] ??= []).push((table = {}));
      continue;
    }
    if ((m = /^\[([\w.]+)\]$/.exec(line))) {
      root[m[1]] = table = {};
      continue;
    }
    m = /^(\w+)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new Error(`gitleaks.toml:${i + 1}: cannot parse: ${line}`);
    let raw = m[2];
    if (raw.startsWith("[") && !raw.endsWith("]")) {
      while (!raw.trimEnd().endsWith("]")) raw += "\n" + lines[++i];
    }
    table[m[1]] = parseValue(raw.trim(), i + 1);
  }
  return root;
}

function parseValue(raw, line) {
  const values = [];
  let i = 0;
  const isArray = raw.startsWith("[");
  if (isArray) i = 1;
  while (i < raw.length) {
    const c = raw[i];
    if (c === "]" && isArray) break;
    if (/[\s,]/.test(c)) {
      i++;
      continue;
    }
    if (raw.startsWith("'''", i)) {
      const end = raw.indexOf("'''", i + 3);
      values.push(raw.slice(i + 3, end));
      i = end + 3;
    } else if (c === '"') {
      let j = i + 1;
      let s = "";
      while (raw[j] !== '"') {
        if (raw[j] === "\\") {
          const e = raw[++j];
          s += e === "n" ? "\n" : e === "t" ? "\t" : e;
        } else s += raw[j];
        j++;
      }
      values.push(s);
      i = j + 1;
    } else {
      const m = /^[\d.]+/.exec(raw.slice(i));
      if (!m) throw new Error(`gitleaks.toml:${line}: cannot parse value ${raw}`);
      values.push(Number(m[0]));
      i += m[0].length;
    }
    if (!isArray) return values[0];
  }
  return values;
}

// ---- RE2 → JavaScript ------------------------------------------------------------------------

class Unsupported extends Error {}

const POSIX = {
  alnum: "A-Za-z0-9",
  alpha: "A-Za-z",
  digit: "0-9",
  xdigit: "0-9A-Fa-f",
  upper: "A-Z",
  lower: "a-z",
  space: "\\t\\n\\v\\f\\r ",
  word: "\\w",
  punct: "!-\\/:-@\\[-`{-~",
};

/** Escapes one code point for use inside a JS character class. */
function classChar(cp) {
  const ch = String.fromCodePoint(cp);
  if ("\\]^-[/".includes(ch)) return "\\" + ch;
  if (cp < 0x20 || cp > 0x7e) return "\\u" + cp.toString(16).padStart(4, "0");
  return ch;
}

/** Escapes one literal code point outside a class. */
function literalChar(cp) {
  const ch = String.fromCodePoint(cp);
  if ("\\^$.|?*+()[]{}/".includes(ch)) return "\\" + ch;
  if (cp < 0x20 || cp > 0x7e) return "\\u" + cp.toString(16).padStart(4, "0");
  return ch;
}

const isLetter = (cp) => (cp >= 65 && cp <= 90) || (cp >= 97 && cp <= 122);
const otherCase = (cp) => (cp >= 97 ? cp - 32 : cp + 32);

/**
 * Translates an RE2 pattern to a JS pattern (no flags; case-insensitivity is expanded into the
 * pattern so that "(?i)" and "(?-i:…)" can be mixed as RE2 allows).
 */
function translate(src) {
  let i = 0;
  let out = "";
  // Stack of flag states per group: { i: bool, s: bool }.
  const stack = [{ i: false, s: false }];
  const flags = () => stack[stack.length - 1];

  function readEscape() {
    // at src[i] === "\\"; returns { kind: "cp", cp } | { kind: "class", text } | { kind: "assert", text }
    const e = src[i + 1];
    i += 2;
    if (e === undefined) throw new Unsupported("trailing backslash");
    if ("dDwWsS".includes(e)) return { kind: "class", text: "\\" + e };
    if (e === "b" || e === "B") return { kind: "assert", text: "\\" + e };
    if (e === "z") return { kind: "assert", text: "(?![\\s\\S])" };
    if (e === "A") return { kind: "assert", text: "(?<![\\s\\S])" };
    if (e === "n") return { kind: "cp", cp: 10 };
    if (e === "r") return { kind: "cp", cp: 13 };
    if (e === "t") return { kind: "cp", cp: 9 };
    if (e === "f") return { kind: "cp", cp: 12 };
    if (e === "v") return { kind: "cp", cp: 11 };
    if (e === "x") {
      if (src[i] === "{") {
        const end = src.indexOf("}", i);
        const cp = parseInt(src.slice(i + 1, end), 16);
        i = end + 1;
        return { kind: "cp", cp };
      }
      const cp = parseInt(src.slice(i, i + 2), 16);
      i += 2;
      return { kind: "cp", cp };
    }
    if (e === "p" || e === "P" || e === "Q" || /\d/.test(e)) {
      throw new Unsupported(`escape \\${e}`);
    }
    return { kind: "cp", cp: e.codePointAt(0) };
  }

  function readClass() {
    // at "["
    i++;
    let negate = false;
    if (src[i] === "^") {
      negate = true;
      i++;
    }
    const items = []; // strings already in JS class syntax
    const ci = flags().i;
    let first = true;
    const pushCp = (cp) => {
      items.push(classChar(cp));
      if (ci && isLetter(cp)) items.push(classChar(otherCase(cp)));
    };
    const pushRange = (a, b) => {
      items.push(`${classChar(a)}-${classChar(b)}`);
      if (!ci) return;
      const lo = Math.max(a, 97);
      const hi = Math.min(b, 122);
      if (lo <= hi) items.push(`${classChar(lo - 32)}-${classChar(hi - 32)}`);
      const LO = Math.max(a, 65);
      const HI = Math.min(b, 90);
      if (LO <= HI) items.push(`${classChar(LO + 32)}-${classChar(HI + 32)}`);
    };
    while (i < src.length && (src[i] !== "]" || first)) {
      first = false;
      if (src.startsWith("[:", i)) {
        const end = src.indexOf(":]", i);
        const name = src.slice(i + 2, end);
        if (!POSIX[name]) throw new Unsupported(`POSIX class ${name}`);
        items.push(POSIX[name]);
        i = end + 2;
        continue;
      }
      let lo;
      if (src[i] === "\\") {
        const e = readEscape();
        if (e.kind === "class") {
          items.push(e.text);
          continue;
        }
        if (e.kind !== "cp") throw new Unsupported("assertion in class");
        lo = e.cp;
      } else {
        lo = src.codePointAt(i);
        i++;
      }
      if (src[i] === "-" && src[i + 1] !== "]" && i + 1 < src.length) {
        i++;
        let hi;
        if (src[i] === "\\") {
          const e = readEscape();
          if (e.kind !== "cp") throw new Unsupported("class range to a class");
          hi = e.cp;
        } else {
          hi = src.codePointAt(i);
          i++;
        }
        pushRange(lo, hi);
      } else {
        pushCp(lo);
      }
    }
    if (src[i] !== "]") throw new Unsupported("unterminated class");
    i++;
    return `[${negate ? "^" : ""}${items.join("")}]`;
  }

  while (i < src.length) {
    const c = src[i];
    if (c === "(") {
      if (src.startsWith("(?", i)) {
        const m = /^\(\?(-?[ismU]+|[ismU]+-[ismU]+)?(:|\))|^\(\?P?<(\w+)>/.exec(src.slice(i));
        if (!m) throw new Unsupported(`group syntax at ${src.slice(i, i + 6)}`);
        if (m[3] !== undefined) {
          // Named group: keep it capturing, drop the name (names can repeat across rules).
          stack.push({ ...flags() });
          out += "(";
          i += m[0].length;
          continue;
        }
        const next = { ...flags() };
        const spec = m[1] ?? "";
        let on = true;
        for (const f of spec) {
          if (f === "-") on = false;
          else if (f === "i") next.i = on;
          else if (f === "s") next.s = on;
          else if (f !== "m") throw new Unsupported(`flag ${f}`);
          else if (on) throw new Unsupported("multi-line flag");
        }
        i += m[0].length;
        if (m[2] === ")") {
          stack[stack.length - 1] = next; // applies to the rest of the enclosing group
        } else {
          stack.push(next);
          out += "(?:";
        }
        continue;
      }
      stack.push({ ...flags() });
      out += "(";
      i++;
      continue;
    }
    if (c === ")") {
      if (stack.length === 1) throw new Unsupported("unbalanced )");
      stack.pop();
      out += ")";
      i++;
      continue;
    }
    if (c === "[") {
      out += readClass();
      continue;
    }
    if (c === "\\") {
      const e = readEscape();
      if (e.kind === "cp") {
        out +=
          flags().i && isLetter(e.cp)
            ? `[${classChar(e.cp)}${classChar(otherCase(e.cp))}]`
            : literalChar(e.cp);
      } else out += e.text;
      continue;
    }
    if (c === ".") {
      out += flags().s ? "[\\s\\S]" : "[^\\n]";
      i++;
      continue;
    }
    if (c === "{") {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i));
      if (m) {
        out += m[0];
        i += m[0].length;
      } else {
        out += "\\{";
        i++;
      }
      continue;
    }
    if (c === "}") {
      out += "\\}";
      i++;
      continue;
    }
    if ("|^$*+?".includes(c)) {
      out += c;
      i++;
      continue;
    }
    const cp = src.codePointAt(i);
    i += cp > 0xffff ? 2 : 1;
    out +=
      flags().i && isLetter(cp) ? `[${classChar(cp)}${classChar(otherCase(cp))}]` : literalChar(cp);
  }
  if (stack.length !== 1) throw new Unsupported("unbalanced (");
  return out;
}

// The semi-generic template's left context ("[\w.-]{0,50}?" before the identifier) only widens
// the match to the left; the secret group is what is masked, so it is dropped.
const LEFT_CONTEXT = /^\(\?i\)\[\\w\.-\]\{0,50\}\?/;
const LEFT_CONTEXT_PLAIN = /^\[\\w\.-\]\{0,50\}\?/;
// The template's closing delimiter, as translated: made a lookahead so it is not consumed.
const DELIMITERS_JS = ["(?:[`'\"\\s;]|\\\\[nr]|$)", "(?:[`'\"\\s;]|\\\\[nNrR]|$)"];

function convertRegex(re2) {
  let src = re2;
  if (LEFT_CONTEXT.test(src)) src = "(?i)" + src.replace(LEFT_CONTEXT, "");
  else src = src.replace(LEFT_CONTEXT_PLAIN, "");
  // Variant: "[\w.-]{0,50}?(?i:[\w.-]{0,50}?(?:name)…": both left contexts go.
  src = src.replace(/^\(\?i:\[\\w\.-\]\{0,50\}\?/, "(?i:");
  let js = translate(src);
  for (const d of DELIMITERS_JS) {
    if (js.endsWith(d)) js = js.slice(0, -d.length) + "(?=" + d.slice(3);
  }
  new RegExp(js, "gd"); // must compile
  return js;
}

/** Number of capturing groups in a JS pattern (classes and escapes skipped). */
function groupCount(js) {
  let n = 0;
  for (let i = 0; i < js.length; i++) {
    if (js[i] === "\\") i++;
    else if (js[i] === "[") {
      for (i++; i < js.length && js[i] !== "]"; i++) if (js[i] === "\\") i++;
    } else if (js[i] === "(" && js[i + 1] !== "?") n++;
  }
  return n;
}

/**
 * null when recheck finds `js` linear-time: the automaton checker first (exact, and fast, where it
 * applies; the fuzzer alone reads a long bounded run such as [a-z]{66} as polynomial), then the
 * default checker. The automaton gets 2 s here and 10 s in test/redos.test.ts, so a rule kept
 * here passes there even on a busy machine.
 */
async function linear(js) {
  const exact = await check(js, "g", { timeout: 2_000, checker: "automaton" });
  if (exact.status === "safe") return null;
  const d = await check(js, "g", { timeout: 30_000 });
  if (d.status === "safe") return null;
  return d.status === "vulnerable"
    ? `not linear-time (${d.complexity.summary})`
    : `recheck could not decide (${d.error.kind})`;
}

// ---- main -----------------------------------------------------------------------------------

function gitleaksToml(version) {
  const json = execFileSync(
    "go",
    ["mod", "download", "-json", `github.com/zricethezav/gitleaks/v8@${version}`],
    { encoding: "utf8", env: { ...process.env, GOFLAGS: "-mod=mod" }, cwd: "/tmp" },
  );
  const info = JSON.parse(json);
  return {
    version: info.Version,
    text: readFileSync(join(info.Dir, "config/gitleaks.toml"), "utf8"),
  };
}

async function convertAllowlists(list, where, notes) {
  const secret = [];
  const match = [];
  const stopwords = [];
  for (const a of list ?? []) {
    if (a.paths && a.condition === "AND") continue; // only applies to some file paths
    if (a.paths && !a.regexes && !a.stopwords) continue; // path-only: no paths in a request
    const target = a.regexTarget ?? "secret";
    for (const s of a.stopwords ?? []) stopwords.push(s.toLowerCase());
    if (target === "line") {
      notes.push(`${where}: allowlist on whole lines not applied (${a.regexes.length} regexes)`);
      continue;
    }
    for (const r of a.regexes ?? []) {
      let js;
      try {
        js = translate(r);
        new RegExp(js);
      } catch (e) {
        notes.push(`${where}: allowlist regex left out (${e.message}): ${r.slice(0, 60)}`);
        continue;
      }
      const bad = await linear(js);
      if (bad) {
        notes.push(`${where}: allowlist regex left out (${bad}): ${r.slice(0, 60)}`);
        continue;
      }
      (target === "match" ? match : secret).push(js);
    }
  }
  return { secret, match, stopwords };
}

async function main() {
  const { version, text } = gitleaksToml(GITLEAKS_VERSION);
  const toml = parseToml(text);
  const notes = [];
  const skipped = [];
  const rules = [];
  const global = await convertAllowlists([toml.allowlist], "global", notes);
  for (const rule of toml.rules) {
    const id = rule.id;
    if (SUPERSEDED[id]) {
      skipped.push([id, `superseded by ${SUPERSEDED[id]}`]);
      continue;
    }
    if (!rule.regex) {
      skipped.push([id, "no content regex (path-only rule)"]);
      continue;
    }
    let js;
    try {
      js = convertRegex(rule.regex);
    } catch (e) {
      skipped.push([id, `cannot translate: ${e.message}`]);
      continue;
    }
    const bad = await linear(js);
    if (bad) {
      skipped.push([id, bad]);
      continue;
    }
    const groups = groupCount(js);
    const allow = await convertAllowlists(rule.allowlists, id, notes);
    rules.push({
      id,
      type: typeFor(id),
      source: js,
      keywords: (rule.keywords ?? []).map((k) => k.toLowerCase()),
      entropy: rule.entropy ?? 0,
      group: rule.secretGroup ?? (groups > 0 ? -1 : 0),
      allow: allow.secret,
      allowMatch: allow.match,
      stopwords: allow.stopwords,
    });
  }
  for (const r of rules) {
    if (r.keywords.length === 0) notes.push(`${r.id}: no keywords, runs on every string`);
  }
  const types = [...new Set(rules.map((r) => r.type))].filter((t) => !BUILTIN_TYPES.has(t)).sort();
  writeOutput(version, rules, skipped, notes, global, types);
  for (const [id, why] of skipped) process.stderr.write(`skipped ${id}: ${why}\n`);
  for (const n of notes) process.stderr.write(`note ${n}\n`);
  process.stderr.write(
    `gitleaks ${version}: ${rules.length} rules generated, ${skipped.length} left out, ${types.length} new types\n`,
  );
}

const BUILTIN_TYPES = new Set([
  "aws_access_key",
  "google_api_key",
  "github_token",
  "slack_token",
  "stripe_key",
  "jwt",
  "generic_secret",
]);

const lit = (s) => JSON.stringify(s);
const reLit = (s) => `/${s}/`;

function writeOutput(version, rules, skipped, notes, global, types) {
  const lines = [];
  lines.push("// Generated by scripts/gen-provider-rules.mjs from gitleaks' config/gitleaks.toml.");
  lines.push("// Do not edit by hand: change the generator and run it again.");
  lines.push("/* eslint-disable */");
  lines.push('import type { GeneratedRule } from "./rule.ts";');
  lines.push("");
  lines.push(`export const GITLEAKS_VERSION = ${lit(version)};`);
  lines.push("");
  lines.push(
    "/** Finding types introduced by the generated rules (built-in types not repeated). */",
  );
  lines.push(`export const PROVIDER_TYPES = [${types.map(lit).join(", ")}] as const;`);
  lines.push("");
  lines.push("/** gitleaks' global allowlist: a secret matching one of these is not reported. */");
  lines.push(
    `export const GLOBAL_ALLOW: readonly RegExp[] = [${global.secret.map(reLit).join(", ")}];`,
  );
  lines.push(
    `export const GLOBAL_STOPWORDS: readonly string[] = [${global.stopwords.map(lit).join(", ")}];`,
  );
  lines.push("");
  lines.push(
    "/** Rules left out, with the reason (reported by the generator, never silently dropped). */",
  );
  lines.push("export const LEFT_OUT: readonly (readonly [id: string, reason: string])[] = [");
  for (const [id, why] of skipped) lines.push(`  [${lit(id)}, ${lit(why)}],`);
  lines.push("];");
  lines.push("");
  lines.push("/** Parts of upstream rules not applied (allowlists on lines or file paths). */");
  lines.push(`export const NOTES: readonly string[] = [`);
  for (const n of notes) lines.push(`  ${lit(n)},`);
  lines.push("];");
  lines.push("");
  lines.push("/**");
  lines.push(
    " * group: the capture group that is the secret (-1: the first group that matched; 0: the",
  );
  lines.push(' * whole match). Regexes carry no flags here; the matcher compiles them with "gd".');
  lines.push(" */");
  lines.push("export const GENERATED_RULES: readonly GeneratedRule[] = [");
  for (const r of rules) {
    lines.push("  {");
    lines.push(`    id: ${lit(r.id)},`);
    lines.push(`    type: ${lit(r.type)},`);
    lines.push(`    regex: ${reLit(r.source)},`);
    lines.push(`    keywords: [${r.keywords.map(lit).join(", ")}],`);
    lines.push(`    entropy: ${r.entropy},`);
    lines.push(`    group: ${r.group},`);
    lines.push(`    allow: [${r.allow.map(reLit).join(", ")}],`);
    lines.push(`    allowMatch: [${r.allowMatch.map(reLit).join(", ")}],`);
    lines.push(`    stopwords: [${r.stopwords.map(lit).join(", ")}],`);
    lines.push("  },");
  }
  lines.push("];");
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, lines.join("\n") + "\n");
  execFileSync(join(ROOT, "node_modules/.bin/prettier"), ["--write", OUT], { stdio: "ignore" });
}

await main();
