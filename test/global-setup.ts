import { execFileSync } from "node:child_process";
import { join } from "node:path";

/**
 * Builds lib/ (the compiled package bin/interlock.js runs) once before the tests, so a test that
 * starts the CLI as a process never runs code older than the sources beside it. JavaScript
 * only: esbuild takes about a second; the declarations are the package build's business.
 */
export function setup(): void {
  const root = join(import.meta.dirname, "..");
  execFileSync(process.execPath, [join(root, "scripts", "build-lib.mjs")], {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
  });
}
