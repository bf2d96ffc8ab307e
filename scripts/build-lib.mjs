#!/usr/bin/env node
// Builds the installable package into lib/ (never dist/, which holds the Action's committed
// bundle): the library (lib/index.js) and the command line (lib/cli/main.js, run by
// bin/interlock.js) as ES modules, and with --types their declarations (lib/types/).
//
// JavaScript comes from esbuild, with code splitting: each command's implementation is a chunk
// loaded only when that command runs (`--help` loads none), and a command starts by reading a
// handful of files instead of hundreds (measured in `npm run bench -- startup`). The library
// imports its dependencies from their packages; the command bundles them (see below). esbuild
// takes about a second, so the test setup rebuilds before every run: no test starts stale code.
// Declarations come from tsc (esbuild emits none); they are only needed for the package, so
// only `npm run build` (and `prepare`, on install and pack) makes them.
//
// Usage: node scripts/build-lib.mjs [--types]
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const LIB_DIR = join(root, "lib");

/**
 * The command's static imports of Node's built-ins (`import { readFileSync } from "node:fs"`)
 * become CommonJS modules of process.getBuiltinModule. An ES import of a built-in makes Node
 * evaluate every lazily loaded export of that module for its namespace: `node:fs` brings
 * fs.promises (and with it readline), the stream classes; `node:util` and `node:crypto` their
 * own; a short command pays for all of them (BENCHMARKS.md, startup). Through require, an
 * export is read when the code uses it. Dynamic import() of a built-in is left as it is.
 */
const builtinsThroughRequire = {
  name: "builtins-through-require",
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === "import-statement" ? { path: args.path, namespace: "node-builtin" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "node-builtin" }, (args) => ({
      contents: `module.exports = process.getBuiltinModule(${JSON.stringify(args.path)});`,
      loader: "js",
    }));
  },
};

/** Builds into a fresh directory beside lib/ and swaps it in, so lib/ is never half written. */
export async function buildLib({ types = false, outDir = LIB_DIR } = {}) {
  const out = resolve(outDir);
  const tmp = mkdtempSync(`${out}.tmp-`);
  try {
    const common = {
      absWorkingDir: root,
      bundle: true,
      splitting: true,
      platform: "node",
      target: "node20",
      format: "esm",
      chunkNames: "chunks/[name]-[hash]",
      legalComments: "none",
      logLevel: "warning",
    };
    // The library: our code bundled, its dependencies imported from the installed packages
    // (whose types the declarations refer to).
    await build({
      ...common,
      entryPoints: { index: "src/index.ts" },
      outdir: tmp,
      packages: "external",
    });
    // The command: dependencies bundled into the chunks of the commands that use them (Octokit
    // only in the GitHub commands' chunks, …). Node then resolves, reads and links a few files
    // instead of several hundred: half the CPU of `interlock evaluate` (BENCHMARKS.md, startup).
    // libpg-query stays a package import: its loader finds its Wasm beside itself.
    await build({
      ...common,
      entryPoints: { main: "src/cli/main.ts" },
      outdir: join(tmp, "cli"),
      external: ["libpg-query"],
      plugins: [builtinsThroughRequire],
      // CommonJS dependencies bundled into ES modules still call require() for Node's built-ins.
      banner: {
        js:
          'import { createRequire as __interlockCreateRequire } from "node:module";\n' +
          "const require = __interlockCreateRequire(import.meta.url);",
      },
    });
    if (types) {
      execFileSync(
        process.execPath,
        [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json"],
        { cwd: root, stdio: "inherit" },
      );
      renameSync(join(root, "lib.types.tmp"), join(tmp, "types"));
    }
    writeFileSync(
      join(tmp, "README.txt"),
      "Built by scripts/build-lib.mjs from src/ (npm run build). Do not edit; not committed.\n",
    );
    if (existsSync(out)) rmSync(out, { recursive: true, force: true });
    renameSync(tmp, out);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    rmSync(join(root, "lib.types.tmp"), { recursive: true, force: true });
  }
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildLib({ types: process.argv.includes("--types") });
  process.stderr.write(`built ${out}\n`);
}
