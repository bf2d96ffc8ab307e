#!/usr/bin/env node
// Bundles the GitHub Action (action.yml → dist/index.js) with esbuild, and ships Interlock's
// default policies next to it (dist/policies: the Rego and data sources the bundle's digest
// covers, and the built Wasm bundle), for approvals repositories without a policies/ of their
// own. dist/ is committed; test/action-dist.test.ts rebuilds into a temporary directory and
// fails when the committed copy differs.
//
// Usage: node scripts/build-action.mjs [outDir]   (default: dist)
import { copyFileSync, cpSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The files of policies/ the action needs: sources (tests left out) and the built bundle. */
function isShippedPolicyFile(rel) {
  const parts = rel.split("/");
  if (parts[0] === "dist") return ["policy.wasm", "data.json", "manifest.json"].includes(parts[1]);
  const name = parts.at(-1);
  if (name.endsWith("_test.rego")) return false;
  return name.endsWith(".rego") || ["data.json", "data.yaml", "data.yml"].includes(name);
}

function copyPolicies(from, to) {
  const walk = (dir) => {
    for (const entry of readdirSync(dir).sort()) {
      const full = join(dir, entry);
      const rel = relative(from, full).split(sep).join("/");
      if (entry.startsWith(".")) continue;
      if (statSync(full).isDirectory()) walk(full);
      else if (isShippedPolicyFile(rel)) {
        mkdirSync(dirname(join(to, rel)), { recursive: true });
        cpSync(full, join(to, rel));
      }
    }
  };
  walk(from);
}

export async function buildAction(outDir) {
  const out = resolve(root, outDir);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await build({
    absWorkingDir: root,
    entryPoints: ["src/action/main.ts"],
    outfile: join(out, "index.js"),
    bundle: true,
    platform: "node",
    target: "node24",
    format: "esm",
    // CommonJS dependencies bundled into ESM still call require() for Node's built-ins.
    banner: {
      js:
        "// Interlock GitHub Action, bundled by scripts/build-action.mjs. Do not edit: run npm run build:action.\n" +
        'import { createRequire as __interlockCreateRequire } from "node:module";\n' +
        "const require = __interlockCreateRequire(import.meta.url);\n" +
        // libpg-query's Emscripten loader finds its Wasm through __dirname (copied beside us).
        'import { fileURLToPath as __interlockFileURLToPath } from "node:url";\n' +
        "const __dirname = __interlockFileURLToPath(new URL('.', import.meta.url));",
    },
    legalComments: "eof",
    sourcemap: false,
    minify: false,
    logLevel: "warning",
  });
  copyPolicies(join(root, "policies"), join(out, "policies"));
  // PostgreSQL's parser (src/sql/) loads its Wasm from beside the script that imports it.
  copyFileSync(
    join(root, "node_modules", "libpg-query", "wasm", "libpg-query.wasm"),
    join(out, "libpg-query.wasm"),
  );
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildAction(process.argv[2] ?? "dist");
  process.stdout.write(`built ${relative(process.cwd(), out) || "."}/index.js and policies/\n`);
}
