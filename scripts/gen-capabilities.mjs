#!/usr/bin/env node
// Regenerates src/policy/capabilities.json: the builtins a policy compiled for Interlock's
// Node host may use. It is OPA's own capabilities for the pinned release, narrowed to the
// builtins OPA's Wasm runtime implements natively plus those the JS host supplies
// (opa-wasm's and ours, HOST_BUILTINS below). `opa build --capabilities` then rejects any other
// builtin at build time instead of failing at evaluation. Run after bumping the OPA pin.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pinned = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).config.opaVersion;
const opa = join(root, ".tools", "bin", "opa");

// Supplied in JS by @open-policy-agent/opa-wasm (src/builtins) and by src/policy/builtins.ts.
const HOST_BUILTINS = [
  "sprintf",
  "regex.split",
  "json.is_valid",
  "yaml.is_valid",
  "yaml.marshal",
  "yaml.unmarshal",
];

const modcache = execFileSync("go", ["env", "GOMODCACHE"], { encoding: "utf8" }).trim();
const src = join(modcache, "github.com", "open-policy-agent", `opa@${pinned}`);
const wasmGo = readFileSync(join(src, "internal", "compiler", "wasm", "wasm.go"), "utf8");
const astGo = readFileSync(join(src, "v1", "ast", "builtins.go"), "utf8");

const mapBody = wasmGo.slice(wasmGo.indexOf("var builtinsFunctions = map[string]string{"));
const goNames = [...mapBody.slice(0, mapBody.indexOf("\n}\n")).matchAll(/ast\.(\w+)\.Name:/g)].map(
  (m) => m[1],
);
const native = new Set();
for (const g of goNames) {
  const m = new RegExp(`var ${g} = &Builtin\\{\\s*Name:\\s*"([^"]+)"`).exec(astGo);
  if (!m) throw new Error(`cannot find the OPA builtin for ast.${g}`);
  native.add(m[1]);
}
// Unification and assignment are compiled by the planner itself, not through the builtin table.
const COMPILER_INTRINSICS = ["eq", "assign"];
const allowed = new Set([...native, ...HOST_BUILTINS, ...COMPILER_INTRINSICS]);
const caps = JSON.parse(execFileSync(opa, ["capabilities", "--current"], { encoding: "utf8" }));
const known = new Set(caps.builtins.map((b) => b.name));
for (const name of allowed) {
  if (!known.has(name)) throw new Error(`builtin ${name} is not in OPA ${pinned}'s capabilities`);
}
caps.builtins = caps.builtins.filter((b) => allowed.has(b.name));
writeFileSync(
  join(root, "src", "policy", "capabilities.json"),
  JSON.stringify(caps, null, 1) + "\n",
);
process.stderr.write(
  `capabilities: ${caps.builtins.length} builtins (${native.size} native to Wasm, ${HOST_BUILTINS.length} from the JS host)\n`,
);
