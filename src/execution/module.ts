import { realpathSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import type { ExecutionJob, ExecutorEnv, ModuleExecutorConfig, RunResult } from "./executors.ts";

/**
 * The module executor imports a JavaScript or TypeScript module from the approvals repository
 * and calls one of its exports with the params. The module runs in the executor's own process,
 * with its privileges and environment: it is trusted code, reviewed like any other change to
 * the repository (a proposal cannot change it, see gate rule 6). The path must stay inside the
 * repository, symlinks included, so config cannot point the executor at arbitrary code.
 *
 *   export async function execute(params, { requestId, action, resource, attempt, signal }) {
 *     … return { refunded: true };  // recorded as JSON
 *   }
 *
 * A module cannot be killed: at its time limit the executor reports `timed_out` and aborts
 * `signal`; a module that does long work should pass it on (to fetch, child processes, …).
 */

export const DEFAULT_MODULE_TIMEOUT_SECONDS = 300;

const MODULE_EXTENSION = /\.(?:js|mjs|ts)$/;

export const moduleExecutorSchema = z.strictObject({
  type: z.literal("module"),
  /** Path relative to the approvals repository, e.g. executors/refund.ts. */
  module: z
    .string()
    .regex(MODULE_EXTENSION, "must be a .js, .mjs or .ts file")
    .refine((p) => !isAbsolute(p) && !/^[A-Za-z]:/.test(p), "must be relative to the repository")
    .refine((p) => !p.split(/[\\/]/).includes(".."), "must stay inside the repository (no ..)"),
  /** The exported function to call (default "execute"). */
  export: z
    .string()
    .regex(/^[A-Za-z_$][A-Za-z0-9_$]*$/, "must be a JavaScript identifier")
    .optional(),
  timeout_seconds: z.number().positive().max(86_400).optional(),
});

/** The second argument a module's function receives. */
export interface ModuleExecutionContext {
  readonly requestId: string;
  readonly action: string;
  readonly resource: string;
  readonly attempt: number;
  /** Aborted when the executor gives up on the call (its time limit). */
  readonly signal: AbortSignal;
}

export type ModuleExecutorFunction = (params: unknown, context: ModuleExecutionContext) => unknown;

const TIMED_OUT = Symbol("timed out");

export async function runModule(
  config: ModuleExecutorConfig,
  job: ExecutionJob,
  env: ExecutorEnv,
): Promise<RunResult> {
  const located = locateInside(env.repoDir, config.module);
  if (typeof located !== "string") return failed("error", located.error);
  const name = config.export ?? "execute";
  let fn: unknown;
  try {
    const mod = (await import(pathToFileURL(located).href)) as Record<string, unknown>;
    fn = mod[name];
  } catch (err) {
    return failed("error", `cannot load ${config.module}: ${messageOf(err)}`);
  }
  if (typeof fn !== "function") {
    return failed(
      "error",
      `${config.module} has no exported function ${JSON.stringify(name)}: ` +
        `add "export async function ${name}(params, context) { … }" or set export in the executor config`,
    );
  }
  return callWithTimeout(
    fn as ModuleExecutorFunction,
    job,
    config.timeout_seconds ?? DEFAULT_MODULE_TIMEOUT_SECONDS,
  );
}

/** Calls the function; a throw or rejection is a failure, a late answer a time-out. */
async function callWithTimeout(
  fn: ModuleExecutorFunction,
  job: ExecutionJob,
  timeoutSeconds: number,
): Promise<RunResult> {
  const controller = new AbortController();
  const context: ModuleExecutionContext = {
    requestId: job.requestId,
    action: job.action,
    resource: job.resource,
    attempt: job.attempt,
    signal: controller.signal,
  };
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((done) => {
    timer = setTimeout(() => done(TIMED_OUT), timeoutSeconds * 1000);
  });
  try {
    // `then` turns a synchronous throw into a rejection.
    const value = await Promise.race([
      Promise.resolve().then(() => fn(job.params, context)),
      deadline,
    ]);
    if (value === TIMED_OUT) {
      controller.abort(new Error(`timed out after ${timeoutSeconds} s`));
      return failed("timed_out", `the module did not finish within ${timeoutSeconds} s`);
    }
    return { status: "succeeded", output: resultJson(value) };
  } catch (err) {
    return failed("failed", messageOf(err));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The module's absolute path, or why it is refused: it must exist and resolve (symlinks
 * followed) to a file inside the repository.
 */
export function locateInside(repoDir: string, modulePath: string): string | { error: string } {
  if (isAbsolute(modulePath))
    return { error: `module path ${modulePath} must be relative to the repository` };
  let root: string;
  let file: string;
  try {
    root = realpathSync(repoDir);
    file = realpathSync(resolve(root, modulePath));
  } catch {
    return { error: `module ${modulePath} not found in the repository ${repoDir}` };
  }
  const rel = relative(root, file);
  if (rel === "" || rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    return {
      error: `module path ${modulePath} leads outside the repository; executors run only repository code`,
    };
  }
  return file;
}

/** The returned value as JSON; a value that has no JSON form still counts as success. */
function resultJson(value: unknown): string {
  try {
    return JSON.stringify(value ?? null) ?? "null"; // a function or symbol has no JSON form
  } catch (err) {
    return `[the returned value cannot be serialised as JSON: ${messageOf(err)}]`;
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function failed(status: "error" | "failed" | "timed_out", error: string): RunResult {
  return { status, output: "", error };
}
