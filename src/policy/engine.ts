import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadPolicy } from "@open-policy-agent/opa-wasm";
import type { Finding } from "../masking/types.ts";
import type { Request } from "../request/schema.ts";
import { sha256 } from "../request/canonical.ts";
import {
  DIST_DIR,
  ENTRYPOINT,
  readBundle,
  revisionOf,
  sourceDigest,
  type BundleFiles,
} from "./bundle.ts";
import { HOST_BUILTINS } from "./builtins.ts";
import { failClosed, policyDecisionSchema, type Decision } from "./decision.ts";

/** What the policy sees (SPEC §2): the raw request, the detectors' findings, and context. */
export interface PolicyInput {
  readonly request: Request;
  /** Findings never carry the matched text; see masking/types.ts. */
  readonly findings: readonly Omit<Finding, never>[];
  readonly context: {
    readonly now: string;
    readonly repo: string | null;
    readonly requested_ttl_seconds: number | null;
  };
}

/** Decides. Never throws: every failure is a fail-closed denial that says why. */
export interface PolicyEngine {
  readonly revision: string;
  decide(input: PolicyInput): Decision;
}

type LoadedPolicy = Awaited<ReturnType<typeof loadPolicy>>;

/**
 * Loads a built policy bundle from `<policiesDir>/dist`. Never throws: a missing, corrupt,
 * stale or mismatched bundle gives an engine whose every decision is a fail-closed denial.
 */
export async function loadPolicyEngine(policiesDir: string): Promise<PolicyEngine> {
  let files: BundleFiles;
  try {
    if (!existsSync(join(policiesDir, DIST_DIR, "policy.wasm"))) {
      return failedEngine(
        "no compiled policy was found",
        `Run 'interlock policy build' to compile ${policiesDir} to ${join(policiesDir, DIST_DIR)}.`,
      );
    }
    files = readBundle(policiesDir);
  } catch (err) {
    return failedEngine(
      `the compiled policy could not be read (${(err as Error).message})`,
      "Run 'interlock policy build' to rebuild it.",
    );
  }
  if (sourceDigest(policiesDir) !== files.manifest.source_digest) {
    return failedEngine(
      "the Rego or data sources changed after the policy was built, so the compiled policy is stale",
      "Run 'interlock policy build' (and 'interlock policy test') and commit the result.",
      revisionOf(files.wasm, files.dataJson),
    );
  }
  return policyEngineFromBundle(files);
}

/**
 * An engine from a built bundle's bytes (read from a directory, or from a commit of the
 * approvals repository). Never throws: a corrupt or mismatched bundle gives a fail-closed engine.
 */
export async function policyEngineFromBundle(files: BundleFiles): Promise<PolicyEngine> {
  const { wasm, dataJson, manifest } = files;
  const revision = revisionOf(wasm, dataJson);
  if (sha256(wasm) !== manifest.wasm_digest || sha256(dataJson) !== manifest.data_digest) {
    return failedEngine(
      "the compiled policy does not match its manifest (an interrupted build or a hand edit)",
      "Run 'interlock policy build' to rebuild it.",
      revision,
    );
  }
  if (manifest.entrypoint !== ENTRYPOINT) {
    return failedEngine(
      `the bundle's entrypoint is ${manifest.entrypoint}, not ${ENTRYPOINT}`,
      "Rebuild with 'interlock policy build'.",
      revision,
    );
  }
  let policy: LoadedPolicy;
  let data: unknown;
  try {
    data = JSON.parse(dataJson);
    policy = await loadPolicy(wasm, undefined, HOST_BUILTINS);
    if (!(ENTRYPOINT in (policy.entrypoints as Record<string, number>))) {
      throw new Error(`the Wasm has no ${ENTRYPOINT} entrypoint`);
    }
    policy.setData(data as object);
  } catch (err) {
    return failedEngine(
      `the compiled policy could not be loaded (${firstLine(err)})`,
      "Run 'interlock policy build' to rebuild it; if that fails, the Rego is at fault.",
      revision,
    );
  }
  return new WasmPolicyEngine(policy, revision);
}

class WasmPolicyEngine implements PolicyEngine {
  readonly revision: string;
  readonly #policy: LoadedPolicy;

  constructor(policy: LoadedPolicy, revision: string) {
    this.#policy = policy;
    this.revision = revision;
  }

  decide(input: PolicyInput): Decision {
    let resultSet: unknown;
    try {
      resultSet = this.#policy.evaluate(input, ENTRYPOINT);
    } catch (err) {
      return failClosed(
        "evaluate",
        `the policy raised an error (${firstLine(err)})`,
        "Run 'interlock policy test' and fix the rule that errors for this kind of request.",
        this.revision,
      );
    }
    const result = Array.isArray(resultSet)
      ? (resultSet[0] as { result?: unknown } | undefined)
      : undefined;
    if (result === undefined || result.result === undefined) {
      return failClosed(
        "evaluate",
        `the policy gave no decision (${ENTRYPOINT} is undefined for this request)`,
        "Make the decision rule total: give it a default so that every request gets an answer.",
        this.revision,
      );
    }
    const parsed = policyDecisionSchema.safeParse(result.result);
    if (!parsed.success) {
      const issues = parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.length ? i.path.join(".") + ": " : ""}${i.message}`)
        .join("; ");
      return failClosed(
        "validate",
        `the policy's answer is not a valid decision (${issues})`,
        "Compare the decision rule's output with SPEC §2 (allow, deny, risk, classification, auto_approve, approvals, mask, ttl_seconds).",
        this.revision,
      );
    }
    return { ...parsed.data, why: parsed.data.why ?? [], revision: this.revision };
  }
}

function failedEngine(reason: string, hint: string, revision = "none"): PolicyEngine {
  return { revision, decide: () => failClosed("load", reason, hint, revision) };
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0]!.slice(0, 300);
}
