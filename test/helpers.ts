import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { findOpa } from "../src/policy/toolchain.ts";

export const opa = (): string => findOpa();

export function tempDir(prefix = "interlock-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes files (path → content) under a new temporary directory and returns it. */
export function writeTree(files: Record<string, string>, root = tempDir()): string {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

/** A decision that satisfies the schema, as Rego, for small test policies. */
export const VALID_DECISION_REGO = `{
  "allow": true, "deny": [], "risk": "low", "classification": [], "auto_approve": false,
  "approvals": {"groups": [{"name": "security", "owners": ["@acme/security"], "min": 1}]},
  "mask": [], "ttl_seconds": 3600, "why": ["test policy"]
}`;

export const SAMPLE_REQUEST = Object.freeze({
  action: "db.query",
  resource: "postgres://staging/products",
  params: { query: "select 1" },
  reason: "test",
  requester: { id: "agent:test-bot", kind: "agent" as const },
});

export const SAMPLE_INPUT = {
  request: SAMPLE_REQUEST,
  findings: [],
  context: { now: "2026-11-24T10:00:00.000Z", repo: "test", requested_ttl_seconds: null },
};
