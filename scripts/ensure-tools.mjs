#!/usr/bin/env node
// Makes the tools the tests need available on a fresh machine:
//  - the pinned OPA release, for `interlock policy build` / `policy test` and the bundle check;
//  - Debian's `age` command-line tool, which the tests use to prove our sealing interoperates;
//  - Debian's `cmark-gfm` (GitHub's Markdown renderer), which the card injection tests render with.
// Order: an `opa` on PATH with the pinned version; otherwise the pinned version built from
// source with the Go toolchain (through the Go module proxy) into the git-ignored .tools/bin.
// Nothing else is downloaded. Exits non-zero with one message that says how to install opa.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pinned = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).config.opaVersion;
const toolsBin = join(root, ".tools", "bin");
const local = join(toolsBin, "opa");
const quiet = process.argv.includes("--quiet");
const say = (msg) => {
  if (!quiet) process.stderr.write(`${msg}\n`);
};

function has(cmd, args = ["--version"]) {
  try {
    execFileSync(cmd, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Installs a Debian package when its command is missing and we are root on an apt system;
 * otherwise exits with one message that says how to install it.
 */
function ensureDebianTool({ pkg, commands, why, manual }) {
  if (commands.every(([cmd, args]) => has(cmd, args))) return;
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  if (root && has("apt-get", ["--version"])) {
    say(`Installing Debian's ${pkg} package (${why})...`);
    try {
      execFileSync("apt-get", ["update", "-qq"], { stdio: ["ignore", "ignore", "inherit"] });
      execFileSync("apt-get", ["install", "-y", "-qq", pkg], {
        stdio: ["ignore", "ignore", "inherit"],
        env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      });
      return;
    } catch {
      // fall through to the message
    }
  }
  process.stderr.write(`interlock: the tests need ${manual} and run this again.\n`);
  process.exit(1);
}

function ensureAge() {
  ensureDebianTool({
    pkg: "age",
    commands: [
      ["age", ["--version"]],
      ["age-keygen", ["--version"]],
    ],
    why: "used by the interoperability tests",
    manual:
      "the age command-line tool. Install it (Debian/Ubuntu: apt-get install age; macOS: brew install age)",
  });
}

/** GitHub's own Markdown renderer: the card tests render hostile cards with it. */
function ensureCmarkGfm() {
  ensureDebianTool({
    pkg: "cmark-gfm",
    commands: [["cmark-gfm", ["--version"]]],
    why: "GitHub's Markdown renderer, used by the card injection tests",
    manual:
      "cmark-gfm, GitHub's Markdown renderer. Install it (Debian/Ubuntu: apt-get install cmark-gfm; macOS: brew install cmark-gfm)",
  });
}

function versionOf(bin) {
  try {
    const out = execFileSync(bin, ["version"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    const m = /^Version:\s*(\S+)/m.exec(out);
    return m ? `v${m[1].replace(/^v/, "")}` : undefined;
  } catch {
    return undefined;
  }
}

ensureAge();
ensureCmarkGfm();
if (existsSync(local) && versionOf(local) === pinned) {
  say(`opa ${pinned}: ${local}`);
  process.exit(0);
}
if (versionOf("opa") === pinned) {
  say(`opa ${pinned}: found on PATH`);
  process.exit(0);
}

let goOk = false;
try {
  execFileSync("go", ["version"], { stdio: "ignore" });
  goOk = true;
} catch {
  goOk = false;
}
if (!goOk) {
  process.stderr.write(
    `interlock: OPA ${pinned} is needed to build and test policies, and neither it nor Go was found.\n` +
      `Install it one of these ways, then run this again:\n` +
      `  - put opa ${pinned} on PATH (https://www.openpolicyagent.org/docs/latest/#running-opa), or\n` +
      `  - install Go >= 1.23 so that this script can run: go install github.com/open-policy-agent/opa@${pinned}\n`,
  );
  process.exit(1);
}

say(`Building opa ${pinned} with the Go toolchain into .tools/bin (first run only, ~2 minutes)...`);
mkdirSync(toolsBin, { recursive: true });
try {
  execFileSync("go", ["install", `github.com/open-policy-agent/opa@${pinned}`], {
    cwd: root,
    env: { ...process.env, GOBIN: toolsBin, GOFLAGS: "-mod=mod", GO111MODULE: "on" },
    stdio: ["ignore", "inherit", "inherit"],
  });
} catch {
  process.stderr.write(
    `interlock: 'go install github.com/open-policy-agent/opa@${pinned}' failed (see above).\n` +
      `Check that the Go module proxy is reachable (go env GOPROXY), or put opa ${pinned} on PATH.\n`,
  );
  process.exit(1);
}
if (versionOf(local) !== pinned) {
  process.stderr.write(`interlock: built ${local} but it does not report version ${pinned}.\n`);
  process.exit(1);
}
say(`opa ${pinned}: ${local}`);
