#!/usr/bin/env node
// `npm test`: every check of `npm run typecheck`, `npm run lint`, `npm run tools` and
// `npm run test:unit`, each run as its own npm script, not one after another but at once
// where they can be. The type check and the lint are single-threaded and need nothing else,
// so they start at once; the tests wait for the tools (they run opa, age and cmark-gfm) and
// then run beside them, filling the time the test workers spend waiting on git and other
// processes. The tools and the tests print as they run; the type check and the lint print when
// they end.
// Exits non-zero when any check fails, after all of them have ended.
import { Buffer } from "node:buffer";
import { spawn } from "node:child_process";

const npm = process.platform === "win32" ? "npm.cmd" : "npm";

/** Runs `npm run <script>`; resolves with its exit code and, when buffered, its output. */
function runScript(script, { buffer }) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(npm, ["run", "--silent", script], {
      stdio: buffer ? ["ignore", "pipe", "pipe"] : "inherit",
    });
    const out = [];
    if (buffer) {
      child.stdout.on("data", (d) => out.push(d));
      child.stderr.on("data", (d) => out.push(d));
    }
    child.on("error", (e) => {
      out.push(Buffer.from(`cannot start npm: ${e.message}\n`));
      resolve({ script, code: 1, out: Buffer.concat(out), seconds: 0 });
    });
    child.on("close", (code, signal) => {
      const seconds = (Date.now() - started) / 1000;
      resolve({ script, code: code ?? (signal ? 128 : 1), out: Buffer.concat(out), seconds });
    });
  });
}

function report({ script, code, out, seconds }) {
  const text = out.toString("utf8");
  if (text.trim() !== "") process.stderr.write(`\n> npm run ${script}\n${text}`);
  process.stderr.write(
    `npm run ${script}: ${code === 0 ? "passed" : `failed (exit ${code})`} in ${seconds.toFixed(1)} s\n`,
  );
}

const checks = ["typecheck", "lint"].map((script) =>
  runScript(script, { buffer: true }).then((r) => (report(r), r)),
);
// The tools print as they go: on a fresh machine, building opa takes minutes.
const tools = await runScript("tools", { buffer: false });
report(tools);
const unit = tools.code === 0 ? await runScript("test:unit", { buffer: false }) : null;
if (unit) report(unit);
const results = [tools, ...(await Promise.all(checks)), ...(unit ? [unit] : [])];
const failed = results.filter((r) => r.code !== 0).map((r) => r.script);
if (failed.length > 0) process.stderr.write(`\nnpm test: failed: ${failed.join(", ")}\n`);
process.exitCode = failed.length > 0 ? 1 : 0;
