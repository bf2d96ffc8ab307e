#!/usr/bin/env node
// The interlock command. Runs the TypeScript sources through tsx's loader.
import { register } from "tsx/esm/api";

register();
// A reader that stops early (`interlock audit | head -1`) is not a failure of the command: the
// command finishes, and its own exit code (0 once a request is filed) is what counts.
process.stdout.on("error", (err) => {
  if (err.code !== "EPIPE") throw err;
});
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
