#!/usr/bin/env node
// The interlock command. Runs the compiled package (lib/, built by `npm run build`, which npm
// runs on install through `prepare`); no TypeScript compiler at run time.
import module from "node:module";

// Node 22.1+ keeps the compiled code of the modules it loads between runs (in the OS's
// temporary directory; NODE_DISABLE_COMPILE_CACHE=1 turns it off): start-up is most of a
// short command's time.
module.enableCompileCache?.();
const args = process.argv.slice(2);
// A command decides a few requests. V8 recompiles a hot Wasm function of the policy or of
// PostgreSQL's parser with its optimizing compiler after a small budget of execution: hundreds
// of ms of CPU that a short command never earns back (BENCHMARKS.md, startup). A larger budget
// leaves that to long runs (evaluate --batch, execute over many requests). Set before any Wasm
// is compiled; it changes nothing but when code is optimized. (Help and the version print text:
// they skip loading node:v8; require, not import: an ES import of it loads Node's streams.)
if (args.length > 0 && !args.some((a) => a === "-h" || a === "--help" || a === "--version")) {
  process.getBuiltinModule("node:v8").setFlagsFromString("--wasm-tiering-budget=100000000");
}

// A reader that stops early (`interlock audit | head -1`) is not a failure of the command: the
// command finishes, and its own exit code (0 once a request is filed) is what counts.
process.stdout.on("error", (err) => {
  if (err.code !== "EPIPE") throw err;
});
let cli;
try {
  cli = await import("../lib/cli/main.js");
} catch (err) {
  if (err?.code !== "ERR_MODULE_NOT_FOUND" || !String(err.message).includes("/lib/cli/main.js")) {
    throw err;
  }
  process.stderr.write(
    "interlock: this checkout has not been built (lib/ is missing)\n" +
      "  next: run 'npm run build' (npm ci runs it for you)\n",
  );
  process.exit(1);
}
process.exitCode = await cli.main(args);
