import { spawn, type ChildProcess } from "node:child_process";
import { statSync } from "node:fs";
import { resolve } from "node:path";
import type { Readable } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import { z } from "zod";
import type { ExecutionJob, ExecutorEnv, RunResult, ShellExecutorConfig } from "./executors.ts";

/**
 * The shell executor runs a program with a fixed argv. Request text never reaches a shell:
 * the process is spawned with `shell: false`, argv comes only from the reviewed config, and the
 * params travel as data, on stdin (default) or in environment variables. (ANCHORS: "request
 * text interpolated into shell commands" is a known way approvals get bypassed.) A script that
 * receives params must treat them as data too: quote "$INTERLOCK_PARAM_X", never `eval` it.
 *
 * The child does not inherit the executor's environment, which in CI holds tokens and keys:
 * it gets PATH, HOME and LANG, the variables named in `pass_env`, the fixed values in `env`,
 * and the INTERLOCK_* variables. Params go on stdin by default because environment variables
 * are inherited by every subprocess and readable by the same user through /proc.
 */

export const DEFAULT_SHELL_TIMEOUT_SECONDS = 300;
export const MAX_TIMEOUT_SECONDS = 86_400;
/** After SIGTERM, how long the process group has to exit before SIGKILL. */
export const KILL_GRACE_MS = 5_000;

/** Memory guard per stream; the dispatcher cuts the recorded text much shorter. */
const CAPTURE_LIMIT_BYTES = 1024 * 1024;
/** After the process exits, how long to wait for its pipes to close (a detached grandchild may hold them). */
const PIPE_DRAIN_MS = 1_000;
/** Where a program is looked up when the executor's own environment has no PATH. */
const DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";
/** The only variables taken from the executor's environment without being named. */
const BASE_ENV = ["PATH", "HOME", "LANG"] as const;

export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

const envName = z
  .string()
  .regex(ENV_NAME_PATTERN, "must be an environment variable name such as DEPLOY_TARGET")
  .refine(
    (name) => !name.toUpperCase().startsWith("INTERLOCK_"),
    "INTERLOCK_* variables are set by Interlock",
  );

export const shellExecutorSchema = z.strictObject({
  type: z.literal("shell"),
  /** argv: the program, then its arguments. Never a shell string. */
  command: z
    .array(
      z
        .string()
        .min(1, "must not be empty")
        .refine((s) => !s.includes("\0"), "must not contain NUL"),
      {
        error:
          'must be an argv array such as ["./scripts/deploy.sh", "--prod"], never a shell string',
      },
    )
    .min(1, "must name the program to run"),
  /** How params reach the program: JSON on stdin (default) or INTERLOCK_* environment variables. */
  params_via: z.enum(["stdin", "env"]).optional(),
  /** Fixed variables for the program (committed to Git: no secrets here, use pass_env). */
  env: z
    .record(
      z.string(),
      z.string().refine((s) => !s.includes("\0"), "must not contain NUL"),
    )
    .superRefine((vars, ctx) => {
      // Checked here rather than as the record's key schema, whose message would only be
      // "Invalid key in record".
      for (const name of Object.keys(vars)) {
        const checked = envName.safeParse(name);
        if (!checked.success) {
          ctx.addIssue({ code: "custom", path: [name], message: checked.error.issues[0]!.message });
        }
      }
    })
    .optional(),
  /** Variables passed through from the executor's environment, e.g. a CI secret. */
  pass_env: z.array(envName).optional(),
  /** Working directory, relative to the approvals repository (default: its root). */
  cwd: z.string().min(1).optional(),
  timeout_seconds: z.number().positive().max(MAX_TIMEOUT_SECONDS).optional(),
});

export async function runShell(
  config: ShellExecutorConfig,
  job: ExecutionJob,
  env: ExecutorEnv,
): Promise<RunResult> {
  const cwd = resolve(env.repoDir, config.cwd ?? ".");
  if (!isDirectory(cwd)) {
    return failed(
      "error",
      `working directory ${cwd} does not exist: fix cwd in the executor config`,
    );
  }
  const viaStdin = (config.params_via ?? "stdin") === "stdin";
  const payload = jobPayload(job);
  if (payload === undefined) {
    return failed("error", "the params cannot be serialised as JSON");
  }
  return runProcess(config.command, {
    cwd,
    env: childEnvironment(config, job, env.env),
    stdin: viaStdin ? payload : undefined,
    timeoutSeconds: config.timeout_seconds ?? DEFAULT_SHELL_TIMEOUT_SECONDS,
  });
}

/** The JSON document written to stdin; undefined when the params cannot be serialised. */
function jobPayload(job: ExecutionJob): string | undefined {
  try {
    return JSON.stringify({
      request_id: job.requestId,
      action: job.action,
      resource: job.resource,
      params: job.params ?? null,
      attempt: job.attempt,
    });
  } catch {
    return undefined;
  }
}

/**
 * The child's whole environment: a minimal base, pass-through and fixed variables from the
 * config, then Interlock's own (last, so config cannot spoof them).
 */
export function childEnvironment(
  config: ShellExecutorConfig,
  job: ExecutionJob,
  parent: NodeJS.ProcessEnv,
): Record<string, string> {
  const env: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const name of [...BASE_ENV, ...(config.pass_env ?? [])]) {
    const value = parent[name];
    if (value !== undefined) env[name] = value;
  }
  env.PATH ??= DEFAULT_PATH;
  Object.assign(env, config.env ?? {});
  env.INTERLOCK_REQUEST_ID = job.requestId;
  env.INTERLOCK_ATTEMPT = String(job.attempt);
  if (config.params_via === "env") Object.assign(env, paramVariables(job));
  return env;
}

/**
 * INTERLOCK_ACTION, INTERLOCK_RESOURCE, INTERLOCK_PARAMS (JSON), and INTERLOCK_PARAM_<KEY> for
 * each top-level param whose key is a valid variable name: strings as they are, anything else
 * as JSON. Keys that collide once upper-cased ("region" and "REGION") get no variable of their
 * own, so a program never silently reads the wrong one; they are still in INTERLOCK_PARAMS.
 */
export function paramVariables(job: ExecutionJob): Record<string, string> {
  const vars: Record<string, string> = {
    INTERLOCK_ACTION: job.action,
    INTERLOCK_RESOURCE: job.resource,
    INTERLOCK_PARAMS: JSON.stringify(job.params ?? null),
  };
  const params = job.params;
  if (params === null || typeof params !== "object" || Array.isArray(params)) return vars;
  const entries = Object.entries(params).filter(
    ([k, v]) => ENV_NAME_PATTERN.test(k) && v !== undefined,
  );
  const seen = new Map<string, number>();
  for (const [key] of entries) seen.set(key.toUpperCase(), (seen.get(key.toUpperCase()) ?? 0) + 1);
  for (const [key, value] of entries) {
    const name = key.toUpperCase();
    if (seen.get(name) !== 1) continue;
    vars[`INTERLOCK_PARAM_${name}`] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return vars;
}

interface ProcessOptions {
  readonly cwd: string;
  readonly env: Record<string, string>;
  /** Written to stdin, which is then closed; undefined: stdin is /dev/null. */
  readonly stdin: string | undefined;
  readonly timeoutSeconds: number;
}

/**
 * Spawns the program in its own process group (detached), so a timeout can stop it together
 * with everything it started, and waits until it has exited and its output is collected.
 */
async function runProcess(argv: readonly string[], opts: ProcessOptions): Promise<RunResult> {
  const [program, ...args] = argv as [string, ...string[]];
  let child: ChildProcess;
  try {
    child = spawn(program, args, {
      shell: false,
      detached: true,
      cwd: opts.cwd,
      env: opts.env,
      stdio: [opts.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      windowsHide: true,
    });
  } catch (err) {
    return spawnFailure(err, program, opts.env);
  }
  // Listen before anything can happen, so no event is missed.
  const started = new Promise<Error | undefined>((done) => {
    child.once("spawn", () => done(undefined));
    child.on("error", done); // kept attached: an unhandled "error" event would crash the executor
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once("exit", (code, signal) => done({ code, signal })),
  );
  const closed = new Promise<void>((done) => child.once("close", () => done()));
  const stdout = capture(child.stdout!);
  const stderr = capture(child.stderr!);
  if (child.stdin) {
    child.stdin.on("error", () => {}); // EPIPE: the program exited without reading its input
    child.stdin.end(opts.stdin);
  }

  const spawnError = await started;
  if (spawnError !== undefined || child.pid === undefined) {
    return spawnFailure(spawnError, program, opts.env);
  }
  const pid = child.pid;
  let termination: Promise<void> | undefined;
  const timer = setTimeout(() => {
    termination = terminateGroup(pid);
  }, opts.timeoutSeconds * 1000);

  const { code, signal } = await exited;
  clearTimeout(timer);
  // Unreferenced, so a drain timer that lost the race does not hold the executor open.
  await Promise.race([closed, delay(PIPE_DRAIN_MS, undefined, { ref: false })]);
  if (termination !== undefined) await termination;
  child.stdout?.destroy();
  child.stderr?.destroy();

  return processResult({
    code,
    signal,
    timedOut: termination !== undefined,
    timeoutSeconds: opts.timeoutSeconds,
    stdout: stdout(),
    stderr: stderr(),
  });
}

function processResult(p: {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  timeoutSeconds: number;
  stdout: string;
  stderr: string;
}): RunResult {
  const exitCode = p.code === null ? {} : { exit_code: p.code };
  if (p.timedOut) {
    const why = `timed out after ${p.timeoutSeconds} s: the process group was terminated`;
    return { status: "timed_out", ...exitCode, output: p.stdout, error: joinLines(why, p.stderr) };
  }
  if (p.code === 0) {
    return {
      status: "succeeded",
      exit_code: 0,
      output: p.stdout,
      ...(p.stderr ? { error: p.stderr } : {}),
    };
  }
  const why =
    p.code === null ? `killed by signal ${p.signal ?? "unknown"}` : `exited with code ${p.code}`;
  return { status: "failed", ...exitCode, output: p.stdout, error: p.stderr || why };
}

/**
 * SIGTERM to the whole group, then SIGKILL to whatever is left after the grace period. Resolves
 * once the group is gone or has been sent SIGKILL.
 */
async function terminateGroup(pid: number): Promise<void> {
  signalGroup(pid, "SIGTERM");
  const deadline = Date.now() + KILL_GRACE_MS;
  while (groupAlive(pid) && Date.now() < deadline) await delay(50);
  if (groupAlive(pid)) signalGroup(pid, "SIGKILL");
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group has already exited.
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Buffers a stream up to the memory guard and keeps draining it, so the child never blocks. */
function capture(stream: Readable): () => string {
  const chunks: Buffer[] = [];
  let kept = 0;
  stream.on("data", (chunk: Buffer) => {
    if (kept >= CAPTURE_LIMIT_BYTES) return;
    const part = chunk.subarray(0, CAPTURE_LIMIT_BYTES - kept);
    chunks.push(part);
    kept += part.length;
  });
  stream.on("error", () => {}); // destroyed after a drain timeout
  return () => Buffer.concat(chunks).toString("utf8");
}

/** Why the program could not be started, and what to change. */
function spawnFailure(err: unknown, program: string, env: Record<string, string>): RunResult {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ENOENT":
      return failed(
        "error",
        `command not found: ${JSON.stringify(program)} (PATH=${env.PATH ?? ""}). ` +
          "Fix command[0] in the executor config: use an absolute path, a path relative to cwd, " +
          "or a program on the PATH (set PATH under env).",
      );
    case "EACCES":
      return failed(
        "error",
        `permission denied running ${JSON.stringify(program)}: make it executable (chmod +x) ` +
          'or run it through its interpreter, e.g. ["bash", "script.sh"].',
      );
    case "E2BIG":
      return failed(
        "error",
        `cannot start ${JSON.stringify(program)}: its arguments and environment are too large; ` +
          "with params_via: env the params are environment variables, use params_via: stdin for large params.",
      );
    case "ERR_INVALID_ARG_VALUE":
      return failed(
        "error",
        `cannot start ${JSON.stringify(program)}: a param contains a NUL character, which cannot be ` +
          "passed in an environment variable; use params_via: stdin.",
      );
    default:
      return failed(
        "error",
        `cannot start ${JSON.stringify(program)}: ${(err as Error | undefined)?.message ?? "unknown error"}`,
      );
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function joinLines(first: string, rest: string): string {
  return rest === "" ? first : `${first}\n${rest}`;
}

function failed(status: "error" | "failed", error: string): RunResult {
  return { status, output: "", error };
}
