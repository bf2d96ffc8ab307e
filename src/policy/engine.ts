import { existsSync } from "node:fs";
import { join } from "node:path";
import * as opaWasm from "@open-policy-agent/opa-wasm";
import {
  executableParamsFor,
  parseExecutableCatalogue,
  type ExecutableCatalogue,
  type ExecutableLanguage,
  type ExecutableParam,
} from "../executable/catalogue.ts";
import type { SqlClassification } from "../sql/classify.ts";
import { loadSqlParser, type SqlParser } from "../sql/parser.ts";
import type { PolicyIdentity } from "../identity/directory.ts";
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

/** What the policy sees (docs/policy.md): the raw request, the detectors' findings, and context. */
export interface PolicyInput {
  readonly request: Request;
  /** Findings never carry the matched text; see masking/types.ts. */
  readonly findings: readonly Omit<Finding, never>[];
  readonly context: {
    readonly now: string;
    readonly repo: string | null;
    readonly requested_ttl_seconds: number | null;
  };
  /**
   * What the host worked out that Rego cannot: the action's executable parameters (from the
   * catalogue, as the host matched them), the read-only classification of each SQL parameter
   * (PostgreSQL's parser), and the resource normalised for matching (NFKC, case-folded,
   * invisible characters removed, every separator "/"). Always present when decideAndMask
   * builds the input; a policy treats its absence as "nothing proven".
   */
  readonly analysis?: PolicyAnalysis;
  /**
   * Every name of the requester and of its sponsor, and the groups either belongs to, resolved
   * by the host from the configuration (absent when there is none, e.g. `interlock evaluate`
   * outside an approvals repository).
   */
  readonly identity?: PolicyIdentity;
}

export interface PolicyAnalysis {
  /** JSON Pointer → language, e.g. {"/params/query": "sql"}. */
  readonly executable: Readonly<Record<string, ExecutableLanguage>>;
  /** JSON Pointer of each SQL parameter present as a string → its classification. */
  readonly sql: Readonly<Record<string, SqlClassification>>;
  readonly resource: { readonly normalized: string };
  /**
   * Every string anywhere in params (any key, any depth, in arrays), as a person reads it
   * (principalSkeleton), for the self-grant rule: a grantee hidden in a field the policy does
   * not name, or spelled with look-alike letters, is still compared with the requester's names.
   */
  readonly principals: readonly string[];
}

/** Decides. Never throws: every failure is a fail-closed denial that says why. */
export interface PolicyEngine {
  readonly revision: string;
  decide(input: PolicyInput): Decision;
  /** The action's executable parameters, from this policy's catalogue data. */
  executableParams(action: unknown): readonly ExecutableParam[];
  /** PostgreSQL's parser; null when it could not be loaded (SQL is then never proven safe). */
  readonly sql: SqlParser | null;
}

type LoadedPolicy = ReturnType<typeof opaWasm.loadPolicySync>;

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
  // The parser's Wasm loads here, once per engine, never at import time, and while the
  // policy's Wasm compiles (both compile off the main thread). Without it no SQL is proven
  // read-only and no mask in SQL can be checked, so those requests fail closed.
  const sqlParser = loadSqlParser().catch(() => null);
  let policy: LoadedPolicy;
  let data: unknown;
  let executables: ExecutableCatalogue;
  try {
    data = JSON.parse(dataJson);
    const parsed = parseExecutableCatalogue(data);
    if (!parsed.ok) {
      return failedEngine(
        `the catalogue's executable parameters are malformed (${parsed.error})`,
        "Fix `executable` in the catalogue data, then run 'interlock policy build'.",
        revision,
      );
    }
    executables = parsed.catalogue;
    // Compiled off the main thread, then instantiated. Not opa-wasm's loadPolicy: its check
    // for a streamed Response loads Node's whole fetch implementation (undici), most of a
    // short command's start-up (BENCHMARKS.md, startup).
    policy = loadPolicySync(await compileWasm(wasm), undefined, HOST_BUILTINS);
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
  const sql = await sqlParser;
  return new WasmPolicyEngine(policy, revision, executables, sql);
}

/**
 * opa-wasm's synchronous loader. Its ES module has it only on the default export (its types
 * declare a named export that the module lacks).
 */
function loadPolicySync(
  ...args: Parameters<typeof opaWasm.loadPolicySync>
): ReturnType<typeof opaWasm.loadPolicySync> {
  return (opaWasm as unknown as { default: typeof opaWasm }).default.loadPolicySync(...args);
}

/** What loadPolicySync takes: the compiled WebAssembly module. */
type CompiledWasm = Parameters<typeof opaWasm.loadPolicySync>[0];

/** WebAssembly.compile (this project's TypeScript libraries declare neither it nor its types). */
function compileWasm(bytes: Uint8Array): Promise<CompiledWasm> {
  const api = (
    globalThis as unknown as {
      WebAssembly: { compile(b: Uint8Array): Promise<CompiledWasm> };
    }
  ).WebAssembly;
  return api.compile(bytes);
}

class WasmPolicyEngine implements PolicyEngine {
  readonly revision: string;
  readonly sql: SqlParser | null;
  readonly #policy: LoadedPolicy;
  readonly #executables: ExecutableCatalogue;

  constructor(
    policy: LoadedPolicy,
    revision: string,
    executables: ExecutableCatalogue,
    sql: SqlParser | null,
  ) {
    this.#policy = policy;
    this.revision = revision;
    this.#executables = executables;
    this.sql = sql;
  }

  executableParams(action: unknown): readonly ExecutableParam[] {
    return executableParamsFor(this.#executables, action);
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
        "Compare the decision rule's output with the decision schema (allow, deny, risk, classification, auto_approve, approvals, mask, ttl_seconds).",
        this.revision,
      );
    }
    return {
      ...parsed.data,
      mask: sortMasks(parsed.data.mask),
      why: parsed.data.why ?? [],
      revision: this.revision,
    };
  }
}

/**
 * Masks in a stable order: by path, then strategy, then type, comparing code points (the
 * order OPA's sort gives). Sorted here because sort() in OPA's Wasm runtime is quadratic.
 */
function sortMasks(masks: Decision["mask"]): Decision["mask"] {
  const key = (m: Decision["mask"][number]) => [m.path, m.strategy, m.type ?? ""];
  return masks
    .map((m) => ({ m, k: key(m) }))
    .sort((a, b) => compareKeys(a.k, b.k))
    .map((x) => x.m);
}

function compareKeys(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i++) {
    const c = compareCodePoints(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return 0;
}

function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

function failedEngine(reason: string, hint: string, revision = "none"): PolicyEngine {
  return {
    revision,
    decide: () => failClosed("load", reason, hint, revision),
    executableParams: () => [],
    sql: null,
  };
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0]!.slice(0, 300);
}
