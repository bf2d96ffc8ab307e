import { z } from "zod";
import { httpExecutorSchema, runHttp } from "./http.ts";
import { moduleExecutorSchema, runModule } from "./module.ts";
import { runShell, shellExecutorSchema } from "./shell.ts";

/**
 * Executors: "run this approved action with these params and report what happened". Claiming,
 * exactly-once and recording the result belong to the caller; an executor only runs one job.
 *
 * Outputs may hold sensitive data (the params are the unsealed originals, and an action's output
 * can echo them). Nothing here logs anything: the caller masks the outcome's text before it is
 * written to Git, a terminal or a job summary.
 */

/** Harmless default: records that the action would run. Used by `interlock init` and the demo. */
export const noopExecutorSchema = z.strictObject({
  type: z.literal("noop"),
  message: z.string().max(1000).optional(),
});

/** One executor, as written under `executors.actions.<action-or-family>` in .interlock/config.yaml. */
export const executorConfigSchema = z.discriminatedUnion(
  "type",
  [shellExecutorSchema, httpExecutorSchema, moduleExecutorSchema, noopExecutorSchema],
  { error: 'executor type must be one of "shell", "http", "module", "noop"' },
);

export type ExecutorConfig = z.infer<typeof executorConfigSchema>;
export type ShellExecutorConfig = z.infer<typeof shellExecutorSchema>;
export type HttpExecutorConfig = z.infer<typeof httpExecutorSchema>;
export type ModuleExecutorConfig = z.infer<typeof moduleExecutorSchema>;
export type NoopExecutorConfig = z.infer<typeof noopExecutorSchema>;

/** One approved request to run. `params` are the unsealed, unmasked originals. */
export interface ExecutionJob {
  readonly requestId: string;
  readonly action: string;
  readonly resource: string;
  readonly params: unknown;
  /** 1 for the first run; a caller that retries after a crash passes 2, 3, … */
  readonly attempt: number;
}

export type ExecutionStatus = "succeeded" | "failed" | "timed_out" | "error";

/**
 * What happened. `failed` means the action ran and reported failure (non-zero exit, non-2xx,
 * a throw); `error` means it could not be run as configured (command not found, missing
 * secret, invalid config); `timed_out` means it was stopped at its time limit.
 */
export interface ExecutionOutcome {
  readonly ok: boolean;
  readonly status: ExecutionStatus;
  /** shell: the exit code, when the process exited by itself. */
  readonly exit_code?: number;
  /** http: the receiver's status code. */
  readonly http_status?: number;
  /** stdout (shell), response body (http), returned value as JSON (module); at most 64 KiB. */
  readonly output: string;
  /** stderr (shell) or what went wrong; at most 16 KiB. */
  readonly error?: string;
  readonly started_at: string;
  readonly finished_at: string;
  readonly duration_ms: number;
}

/** What an executor may use from the outside world: passed in, never read from globals. */
export interface ExecutorEnv {
  /** The approvals repository: relative module paths and shell `cwd` resolve against it. */
  readonly repoDir: string;
  /** The executor's environment (secrets for http signing, PATH/HOME/LANG for shell). */
  readonly env: NodeJS.ProcessEnv;
  readonly now: () => Date;
  /**
   * Cleans output and error text (masking, scrubbing the request's values) before they are cut
   * to size, so that a cut never leaves half a value the cleaning would have recognised.
   */
  readonly clean?: (text: string) => string;
}

/** What one executor type reports; the dispatcher adds timing and applies the size limits. */
export interface RunResult {
  readonly status: ExecutionStatus;
  readonly exit_code?: number;
  readonly http_status?: number;
  readonly output: string;
  readonly error?: string;
}

export const OUTPUT_LIMIT_BYTES = 64 * 1024;
export const ERROR_LIMIT_BYTES = 16 * 1024;

/**
 * Runs one job with its executor. Never throws for executor failures: a bad config, a missing
 * command, a crash inside the executor all come back as `ok: false` with a status and an error.
 */
export async function runExecutor(
  config: ExecutorConfig,
  job: ExecutionJob,
  env: ExecutorEnv,
): Promise<ExecutionOutcome> {
  const started = env.now();
  const result = await runChecked(config, job, env);
  const finished = env.now();
  const clean = env.clean ?? ((text: string) => text);
  return {
    ok: result.status === "succeeded",
    status: result.status,
    ...(result.exit_code === undefined ? {} : { exit_code: result.exit_code }),
    ...(result.http_status === undefined ? {} : { http_status: result.http_status }),
    output: truncateUtf8(clean(result.output), OUTPUT_LIMIT_BYTES),
    ...(result.error === undefined || result.error === ""
      ? {}
      : { error: truncateUtf8(clean(result.error), ERROR_LIMIT_BYTES) }),
    started_at: started.toISOString(),
    finished_at: finished.toISOString(),
    duration_ms: Math.max(0, finished.getTime() - started.getTime()),
  };
}

/** Validates the config again (it may have been built by hand) and dispatches on its type. */
async function runChecked(
  config: ExecutorConfig,
  job: ExecutionJob,
  env: ExecutorEnv,
): Promise<RunResult> {
  const parsed = executorConfigSchema.safeParse(config);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${["", ...i.path.map(String)].join("/")}: ${i.message}`,
    );
    return failure("error", `invalid executor config: ${problems.join("; ")}`);
  }
  const checked = parsed.data;
  try {
    switch (checked.type) {
      case "shell":
        return await runShell(checked, job, env);
      case "http":
        return await runHttp(checked, job, env);
      case "module":
        return await runModule(checked, job, env);
      case "noop":
        return runNoop(checked, job);
    }
  } catch (err) {
    // The runners turn expected failures into results; this is the safety net for the rest.
    return failure("error", `the ${checked.type} executor failed unexpectedly: ${messageOf(err)}`);
  }
}

function runNoop(config: NoopExecutorConfig, job: ExecutionJob): RunResult {
  return {
    status: "succeeded",
    output:
      config.message ??
      `noop: would run ${job.action} on ${job.resource} (configure an executor in .interlock/config.yaml)`,
  };
}

/**
 * Picks the executor for an action: the exact key, else the longest dotted-prefix family key
 * ("iam.grant" for "iam.grant.role", before "iam"), else "*" if present. Only own keys count, so
 * an action named like an Object.prototype member never matches an inherited property.
 */
export function executorFor(
  executors: Readonly<Record<string, ExecutorConfig>>,
  action: string,
): { key: string; config: ExecutorConfig } | undefined {
  const segments = action.split(".");
  for (let n = segments.length; n >= 1; n--) {
    const key = segments.slice(0, n).join(".");
    if (Object.hasOwn(executors, key)) return { key, config: executors[key]! };
  }
  if (Object.hasOwn(executors, "*")) return { key: "*", config: executors["*"]! };
  return undefined;
}

/**
 * Cuts text to at most `limit` bytes of UTF-8, marker included, without splitting a character.
 * The marker says where the cut was; it cannot say how much was dropped, because runners also
 * stop buffering long before an unbounded stream ends.
 */
export function truncateUtf8(text: string, limit: number): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= limit) return text;
  const marker = `\n…[truncated at ${limit} bytes]`;
  let end = Math.max(0, limit - Buffer.byteLength(marker));
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--; // back off a continuation byte
  return bytes.subarray(0, end).toString("utf8") + marker;
}

/** A result for something that did not succeed, with no output. */
function failure(status: Exclude<ExecutionStatus, "succeeded">, error: string): RunResult {
  return { status, output: "", error };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
