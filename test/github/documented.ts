import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { GITHUB_COM } from "./simulator.ts";
import { BOT, INTERLOCK_APP_ID, World } from "./world.ts";
import { installDocumentedWorkflows, WorkflowRunner } from "./workflows.ts";

const DOCS = fileURLToPath(new URL("../../docs/github.md", import.meta.url));

/**
 * The setup docs/github.md documents, on the simulator with every github.com behaviour at its
 * default: the workflows on main, the ruleset (the App's check required, reviews, only the App
 * bypasses), and the `interlock` environment with the App's key, the executor's identity and
 * the masking key `maskingKey` (hex). The world's clock starts at `start` (default: a fixed
 * moment; a test whose processes read the real clock starts it now). The caller closes both.
 */
export async function documentedSetup(
  maskingKey: string,
  opts: { start?: string } = {},
): Promise<{ w: World; runner: WorkflowRunner }> {
  const w = await World.create(opts.start ? { start: opts.start } : {});
  expect(w.sim.behaviour).toEqual(GITHUB_COM);
  expect(await installDocumentedWorkflows(w, DOCS)).toEqual([
    ".github/workflows/interlock-request.yml",
    ".github/workflows/interlock-gate.yml",
    ".github/workflows/interlock-review-relay.yml",
    ".github/workflows/interlock-execute.yml",
  ]);
  w.sim.protect("main", {
    requiredApprovals: 1,
    enforceAdmins: true,
    requiredChecks: [{ context: "interlock/gate", appId: INTERLOCK_APP_ID }],
    dismissStaleReviews: true,
    requireCodeOwnerReviews: true,
    requireLastPushApproval: true,
    bypass: [BOT],
  });
  // The App's private key: random bytes in PEM armour, made at run time.
  const appKey = [
    "-----BEGIN RSA PRIVATE",
    " KEY-----\n",
    randomBytes(48).toString("base64"),
    "\n-----END RSA PRIVATE",
    " KEY-----\n",
  ].join("");
  const runner = new WorkflowRunner(w, {
    appKey,
    environments: {
      interlock: {
        refs: ["refs/heads/main"],
        secrets: {
          INTERLOCK_APP_KEY: appKey,
          INTERLOCK_EXECUTOR_IDENTITY: w.age.identity,
          INTERLOCK_MASKING_KEY: maskingKey,
        },
        vars: { INTERLOCK_APP_ID: String(INTERLOCK_APP_ID) },
      },
    },
  });
  return { w, runner };
}
