import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  executorConfigSchema,
  executorFor,
  runExecutor,
  type ExecutionJob,
  type ExecutorConfig,
  type ExecutorEnv,
} from "../src/execution/executors.ts";
import { signWebhook, verifyWebhookSignature } from "../src/execution/http.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const FIXTURES = join(ROOT, "test", "fixtures", "executors");
const NODE = process.execPath;
const fixture = (name: string): string => join(FIXTURES, name);

const JOB: ExecutionJob = {
  requestId: "01JDX3Q5ZK6W8V9T2R4M7N1P0A",
  action: "payments.refund",
  resource: "stripe://acct_123/ch_456",
  params: { amount: 1250, currency: "eur", note: "goodwill" },
  attempt: 1,
};

/** The executor's environment: what a CI job would have, including a secret the child must not see. */
function executorEnv(extra: Record<string, string> = {}): ExecutorEnv {
  return {
    repoDir: ROOT,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: "/home/interlock-test",
      LANG: "C.UTF-8",
      INTERLOCK_TEST_SECRET: "do-not-leak-3f9a",
      GITHUB_TOKEN: "ghp_notarealtokennotarealtoken000000",
      ...extra,
    },
    now: () => new Date(),
  };
}

/** What the echo fixture printed. */
interface Echo {
  argv: string[];
  stdin: string;
  env: Record<string, string>;
  cwd: string;
}

const echoShell = (
  over: Partial<Extract<ExecutorConfig, { type: "shell" }>> = {},
): ExecutorConfig => ({
  type: "shell",
  command: [NODE, fixture("echo.mjs")],
  ...over,
});

const parseEcho = (output: string): Echo => JSON.parse(output) as Echo;

/** Alive and not a zombie: a container's init may not reap orphans promptly. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

describe("shell executor", () => {
  it("writes the job as JSON on stdin and passes only a minimal environment", async () => {
    const outcome = await runExecutor(echoShell(), JOB, executorEnv());
    expect(outcome).toMatchObject({ ok: true, status: "succeeded", exit_code: 0 });
    const echo = parseEcho(outcome.output);
    expect(echo.stdin).toBe(
      '{"request_id":"01JDX3Q5ZK6W8V9T2R4M7N1P0A","action":"payments.refund",' +
        '"resource":"stripe://acct_123/ch_456","params":{"amount":1250,"currency":"eur","note":"goodwill"},' +
        '"attempt":1}',
    );
    expect(Object.keys(echo.env).sort()).toEqual([
      "HOME",
      "INTERLOCK_ATTEMPT",
      "INTERLOCK_REQUEST_ID",
      "LANG",
      "PATH",
    ]);
    expect(echo.env.INTERLOCK_REQUEST_ID).toBe(JOB.requestId);
    expect(echo.cwd).toBe(ROOT);
    expect(echo.argv).toEqual([]);
  });

  it("passes params in environment variables with params_via: env", async () => {
    const job: ExecutionJob = {
      ...JOB,
      params: {
        amount: 1250,
        currency: "eur",
        "bad-key": 1,
        nested: { a: [1, 2] },
        region: "eu",
        REGION: "us",
      },
    };
    const outcome = await runExecutor(echoShell({ params_via: "env" }), job, executorEnv());
    expect(outcome.status).toBe("succeeded");
    const { env, stdin } = parseEcho(outcome.output);
    expect(stdin).toBe("");
    expect(env).toMatchObject({
      INTERLOCK_REQUEST_ID: JOB.requestId,
      INTERLOCK_ACTION: "payments.refund",
      INTERLOCK_RESOURCE: "stripe://acct_123/ch_456",
      INTERLOCK_PARAMS: JSON.stringify(job.params),
      INTERLOCK_PARAM_AMOUNT: "1250",
      INTERLOCK_PARAM_CURRENCY: "eur",
      INTERLOCK_PARAM_NESTED: '{"a":[1,2]}',
    });
    // Not a variable name, or ambiguous once upper-cased: only in INTERLOCK_PARAMS.
    expect(
      Object.keys(env)
        .filter((k) => k.startsWith("INTERLOCK_PARAM_"))
        .sort(),
    ).toEqual(["INTERLOCK_PARAM_AMOUNT", "INTERLOCK_PARAM_CURRENCY", "INTERLOCK_PARAM_NESTED"]);
  });

  it("adds configured variables and pass_env, but never the rest of the parent environment", async () => {
    const config = echoShell({
      env: { DEPLOY_TARGET: "eu-west-1" },
      pass_env: ["DB_PASSWORD", "NOT_SET"],
    });
    const outcome = await runExecutor(
      config,
      JOB,
      executorEnv({ DB_PASSWORD: "pw-for-the-script" }),
    );
    const { env } = parseEcho(outcome.output);
    expect(env.DEPLOY_TARGET).toBe("eu-west-1");
    expect(env.DB_PASSWORD).toBe("pw-for-the-script");
    expect(env).not.toHaveProperty("NOT_SET");
    expect(env).not.toHaveProperty("INTERLOCK_TEST_SECRET");
    expect(env).not.toHaveProperty("GITHUB_TOKEN");
    expect(outcome.output).not.toContain("do-not-leak-3f9a");
  });

  it("delivers injection attempts verbatim as data and executes none of them", async () => {
    const marker = join(tmpdir(), `pwned-${randomBytes(8).toString("hex")}`);
    const hostile = [
      `"; touch ${marker} #`,
      `'; touch ${marker}; '`,
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `x\ntouch ${marker}\n`,
      `&& touch ${marker} || true`,
    ];
    const job: ExecutionJob = {
      ...JOB,
      resource: `$(touch ${marker})`,
      params: { note: hostile[0], all: hostile },
    };
    const viaStdin = await runExecutor(
      echoShell({ command: [NODE, fixture("echo.mjs"), "$HOME", "*"] }),
      job,
      executorEnv(),
    );
    const viaEnv = await runExecutor(echoShell({ params_via: "env" }), job, executorEnv());

    expect(viaStdin.status).toBe("succeeded");
    expect(viaEnv.status).toBe("succeeded");
    const fromStdin = JSON.parse(parseEcho(viaStdin.output).stdin) as {
      resource: string;
      params: unknown;
    };
    expect(fromStdin.params).toEqual(job.params);
    expect(fromStdin.resource).toBe(job.resource);
    expect(parseEcho(viaStdin.output).argv).toEqual(["$HOME", "*"]); // no expansion of config argv either
    const { env } = parseEcho(viaEnv.output);
    expect(env.INTERLOCK_PARAM_NOTE).toBe(hostile[0]);
    expect(env.INTERLOCK_RESOURCE).toBe(job.resource);
    expect(JSON.parse(env.INTERLOCK_PARAM_ALL!)).toEqual(hostile);
    expect(existsSync(marker)).toBe(false);
  });

  it("streams large params on stdin completely", async () => {
    const job: ExecutionJob = { ...JOB, params: { rows: "x".repeat(2_000_000) } };
    const countStdin =
      "let n = 0; process.stdin.on('data', (c) => (n += c.length)).on('end', () => process.stdout.write(String(n)));";
    const outcome = await runExecutor(
      { type: "shell", command: [NODE, "-e", countStdin] },
      job,
      executorEnv(),
    );
    expect(outcome.status).toBe("succeeded");
    const expected = JSON.stringify({
      request_id: job.requestId,
      action: job.action,
      resource: job.resource,
      params: job.params,
      attempt: 1,
    });
    expect(Number(outcome.output)).toBe(Buffer.byteLength(expected));
  });

  it("explains params that cannot travel in environment variables", async () => {
    const tooBig = await runExecutor(
      echoShell({ params_via: "env" }),
      { ...JOB, params: { rows: "x".repeat(2_000_000) } },
      executorEnv(),
    );
    expect(tooBig.status).toBe("error");
    expect(tooBig.error).toContain("params_via: stdin");
    const nul = await runExecutor(
      echoShell({ params_via: "env" }),
      { ...JOB, params: { note: "a\u0000b" } },
      executorEnv(),
    );
    expect(nul.status).toBe("error");
    expect(nul.error).toContain("NUL");
  });

  it("reports a non-zero exit as failed, with stdout, stderr and the exit code", async () => {
    const outcome = await runExecutor(
      { type: "shell", command: [NODE, fixture("exit.mjs"), "3"] },
      JOB,
      executorEnv(),
    );
    expect(outcome).toMatchObject({
      ok: false,
      status: "failed",
      exit_code: 3,
      output: "partial output",
      error: "refund failed: card expired\n",
    });
  });

  it("reports a missing command as an error that says what to fix", async () => {
    const outcome = await runExecutor(
      { type: "shell", command: ["interlock-no-such-command-x"] },
      JOB,
      executorEnv(),
    );
    expect(outcome).toMatchObject({ ok: false, status: "error", output: "" });
    expect(outcome.error).toContain("command not found");
    expect(outcome.error).toContain("interlock-no-such-command-x");
    expect(outcome.error).toContain("command[0]");
  });

  it("reports a missing working directory as an error", async () => {
    const outcome = await runExecutor(echoShell({ cwd: "no/such/dir" }), JOB, executorEnv());
    expect(outcome.status).toBe("error");
    expect(outcome.error).toContain("working directory");
  });

  it("runs in cwd, resolved against the repository", async () => {
    const outcome = await runExecutor(echoShell({ cwd: "test/fixtures" }), JOB, executorEnv());
    expect(parseEcho(outcome.output).cwd).toBe(join(ROOT, "test", "fixtures"));
  });

  it("kills the whole process group at the time limit", async () => {
    const pidFile = join(mkdtempSync(join(tmpdir(), "interlock-exec-")), "grandchild.pid");
    const config: ExecutorConfig = {
      type: "shell",
      command: [NODE, fixture("sleep.mjs"), pidFile],
      timeout_seconds: 1,
    };
    const before = Date.now();
    const outcome = await runExecutor(config, JOB, executorEnv());
    expect(Date.now() - before).toBeLessThan(10_000);
    expect(outcome).toMatchObject({ ok: false, status: "timed_out" });
    expect(outcome.error).toContain("timed out after 1 s");
    expect(isRunning(Number(readFileSync(pidFile, "utf8")))).toBe(false);
  });

  it("sends SIGKILL when the program ignores SIGTERM", async () => {
    const pidFile = join(mkdtempSync(join(tmpdir(), "interlock-exec-")), "grandchild.pid");
    const config: ExecutorConfig = {
      type: "shell",
      command: [NODE, fixture("sleep.mjs"), pidFile, "ignore-term"],
      timeout_seconds: 0.5,
    };
    const before = Date.now();
    const outcome = await runExecutor(config, JOB, executorEnv());
    expect(Date.now() - before).toBeLessThan(20_000);
    expect(outcome.status).toBe("timed_out");
    expect(isRunning(Number(readFileSync(pidFile, "utf8")))).toBe(false);
  });

  it("truncates long output at a character boundary, with a marker", async () => {
    const outcome = await runExecutor(
      { type: "shell", command: [NODE, fixture("big-output.mjs")] },
      JOB,
      executorEnv(),
    );
    expect(outcome.status).toBe("succeeded");
    expect(Buffer.byteLength(outcome.output)).toBeLessThanOrEqual(64 * 1024);
    expect(outcome.output).toMatch(/^é+\n…\[truncated at 65536 bytes\]$/);
  });

  it("records start, end and duration from the clock it is given", async () => {
    const times = [new Date("2026-11-24T10:00:00.000Z"), new Date("2026-11-24T10:00:02.500Z")];
    const outcome = await runExecutor(echoShell(), JOB, {
      ...executorEnv(),
      now: () => times.shift()!,
    });
    expect(outcome).toMatchObject({
      started_at: "2026-11-24T10:00:00.000Z",
      finished_at: "2026-11-24T10:00:02.500Z",
      duration_ms: 2500,
    });
  });
});

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

describe("http executor", () => {
  const SECRET = "whsec_test_5a1b2c3d4e5f";
  const received: Received[] = [];
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received.push({
          method: req.method!,
          url: req.url!,
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        });
        if (req.url === "/ok")
          res.writeHead(200, { "content-type": "application/json" }).end('{"refund":"re_789"}');
        else if (req.url === "/fail") res.writeHead(502).end("upstream down");
        else if (req.url === "/redirect") res.writeHead(302, { location: "/ok" }).end();
        else if (req.url === "/slow")
          return; // never answers
        else res.writeHead(404).end();
      });
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  });

  const at = new Date("2026-11-24T10:00:00.000Z");
  const env = (extra: Record<string, string> = { WEBHOOK_SECRET: SECRET }): ExecutorEnv => ({
    ...executorEnv(extra),
    now: () => at,
  });
  const http = (path: string, over: Record<string, unknown> = {}): ExecutorConfig =>
    ({
      type: "http",
      url: `${base}${path}`,
      secret_env: "WEBHOOK_SECRET",
      ...over,
    }) as ExecutorConfig;
  const requestsTo = (path: string): Received[] => received.filter((r) => r.url === path);

  it("POSTs the signed job with an idempotency key", async () => {
    const config = http("/ok", { headers: { "X-Team": "payments" } });
    const outcome = await runExecutor(config, { ...JOB, attempt: 2 }, env());
    expect(outcome).toMatchObject({
      ok: true,
      status: "succeeded",
      http_status: 200,
      output: '{"refund":"re_789"}',
    });

    const [req] = requestsTo("/ok");
    expect(req!.method).toBe("POST");
    expect(JSON.parse(req!.body)).toEqual({
      request_id: JOB.requestId,
      action: JOB.action,
      resource: JOB.resource,
      params: JOB.params,
      attempt: 2,
    });
    expect(req!.headers).toMatchObject({
      "content-type": "application/json",
      "idempotency-key": JOB.requestId,
      "x-interlock-request": JOB.requestId,
      "x-interlock-timestamp": String(at.getTime() / 1000),
      "x-team": "payments",
    });
    const signature = req!.headers["x-interlock-signature"] as string;
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(signature).toBe(signWebhook(SECRET, at.getTime() / 1000, req!.body));

    const ts = req!.headers["x-interlock-timestamp"] as string;
    expect(verifyWebhookSignature(SECRET, ts, req!.body, signature, at)).toBe(true);
    expect(
      verifyWebhookSignature(
        SECRET,
        ts,
        Buffer.from(req!.body),
        signature,
        new Date(at.getTime() + 299_000),
      ),
    ).toBe(true);
    // Tampered body, replayed late, wrong secret, shifted timestamp, malformed header: all refused.
    expect(
      verifyWebhookSignature(SECRET, ts, req!.body.replace("1250", "9250"), signature, at),
    ).toBe(false);
    expect(
      verifyWebhookSignature(SECRET, ts, req!.body, signature, new Date(at.getTime() + 301_000)),
    ).toBe(false);
    expect(verifyWebhookSignature("other-secret", ts, req!.body, signature, at)).toBe(false);
    expect(verifyWebhookSignature(SECRET, String(Number(ts) + 1), req!.body, signature, at)).toBe(
      false,
    );
    expect(verifyWebhookSignature(SECRET, ts, req!.body, signature.toUpperCase(), at)).toBe(false);
    expect(verifyWebhookSignature(SECRET, ts, req!.body, undefined, at)).toBe(false);
    expect(verifyWebhookSignature(SECRET, "soon", req!.body, signature, at)).toBe(false);
  });

  it("reports a non-2xx answer as failed, with the status and body", async () => {
    const outcome = await runExecutor(http("/fail"), JOB, env());
    expect(outcome).toMatchObject({
      ok: false,
      status: "failed",
      http_status: 502,
      output: "upstream down",
    });
    expect(outcome.error).toContain("HTTP 502");
  });

  it("does not follow a redirect: a 302 is a failure", async () => {
    const before = requestsTo("/ok").length;
    const outcome = await runExecutor(http("/redirect"), JOB, env());
    expect(outcome).toMatchObject({ ok: false, status: "failed", http_status: 302 });
    expect(outcome.error).toContain("redirects are not followed");
    expect(requestsTo("/ok").length).toBe(before);
  });

  it("never sends an unsigned request: a missing secret is an error and nothing is sent", async () => {
    const count = received.length;
    const outcome = await runExecutor(http("/ok"), JOB, env({}));
    expect(outcome).toMatchObject({ ok: false, status: "error" });
    expect(outcome.error).toContain("WEBHOOK_SECRET is not set");
    expect(received.length).toBe(count);
  });

  it("times out when the receiver does not answer", async () => {
    const before = Date.now();
    const outcome = await runExecutor(http("/slow", { timeout_seconds: 0.5 }), JOB, env());
    expect(outcome).toMatchObject({ ok: false, status: "timed_out" });
    expect(Date.now() - before).toBeLessThan(10_000);
  });

  it("reports an unreachable receiver as an error", async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, "127.0.0.1", done));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((done) => closed.close(done));
    const outcome = await runExecutor(
      {
        type: "http",
        url: `http://127.0.0.1:${port}/hook?token=abc`,
        secret_env: "WEBHOOK_SECRET",
      },
      JOB,
      env(),
    );
    expect(outcome.status).toBe("error");
    expect(outcome.error).toContain("ECONNREFUSED");
    expect(outcome.error).not.toContain("token=abc");
  });
});

describe("module executor", () => {
  const env = (): ExecutorEnv => executorEnv();
  const mod = (over: Record<string, unknown>): ExecutorConfig =>
    ({ type: "module", ...over }) as ExecutorConfig;

  it("calls the export with the params and a context, and records the result as JSON", async () => {
    const outcome = await runExecutor(
      mod({ module: "test/fixtures/executors/module.mjs" }),
      JOB,
      env(),
    );
    expect(outcome).toMatchObject({ ok: true, status: "succeeded" });
    expect(JSON.parse(outcome.output)).toEqual({
      received: JOB.params,
      context: {
        requestId: JOB.requestId,
        action: JOB.action,
        resource: JOB.resource,
        attempt: 1,
        signal: true,
      },
    });
  });

  it("loads a TypeScript module", async () => {
    const outcome = await runExecutor(
      mod({ module: "test/fixtures/executors/module-ts.ts" }),
      JOB,
      env(),
    );
    expect(outcome).toMatchObject({ ok: true, output: '{"refunded":1250}' });
  });

  it("reports a throw as failed, with its message", async () => {
    const outcome = await runExecutor(
      mod({ module: "test/fixtures/executors/module.mjs", export: "refuse" }),
      JOB,
      env(),
    );
    expect(outcome).toMatchObject({
      ok: false,
      status: "failed",
      error: "refund declined by the payment provider",
    });
  });

  it("times out and aborts the signal it passed", async () => {
    const config = mod({
      module: "test/fixtures/executors/module.mjs",
      export: "hang",
      timeout_seconds: 0.2,
    });
    const outcome = await runExecutor(config, JOB, env());
    expect(outcome.status).toBe("timed_out");
  });

  it("reports a missing export or module as an error", async () => {
    const notFn = await runExecutor(
      mod({ module: "test/fixtures/executors/module.mjs", export: "notAFunction" }),
      JOB,
      env(),
    );
    expect(notFn.status).toBe("error");
    expect(notFn.error).toContain('no exported function "notAFunction"');
    const missing = await runExecutor(mod({ module: "executors/missing.mjs" }), JOB, env());
    expect(missing.status).toBe("error");
    expect(missing.error).toContain("not found");
  });

  it("refuses a module outside the repository: .., an absolute path, a symlink", async () => {
    const up = await runExecutor(
      mod({ module: "../main/test/fixtures/executors/module.mjs" }),
      JOB,
      env(),
    );
    expect(up.status).toBe("error");
    expect(up.error).toContain("must stay inside the repository");
    const absolute = await runExecutor(mod({ module: fixture("module.mjs") }), JOB, env());
    expect(absolute.status).toBe("error");

    const repo = mkdtempSync(join(tmpdir(), "interlock-repo-"));
    symlinkSync(fixture("module.mjs"), join(repo, "linked.mjs"));
    const linked = await runExecutor(mod({ module: "linked.mjs" }), JOB, {
      ...env(),
      repoDir: repo,
    });
    expect(linked.status).toBe("error");
    expect(linked.error).toContain("outside the repository");

    writeFileSync(join(repo, "inside.mjs"), "export const execute = (p) => ({ echoed: p });\n");
    const inside = await runExecutor(mod({ module: "inside.mjs" }), JOB, {
      ...env(),
      repoDir: repo,
    });
    expect(inside).toMatchObject({ ok: true, output: JSON.stringify({ echoed: JOB.params }) });
  });
});

describe("noop executor", () => {
  it("succeeds and says what it would have run", async () => {
    const outcome = await runExecutor({ type: "noop" }, JOB, executorEnv());
    expect(outcome).toMatchObject({
      ok: true,
      status: "succeeded",
      output:
        "noop: would run payments.refund on stripe://acct_123/ch_456 (configure an executor in .interlock/config.yaml)",
    });
    const custom = await runExecutor(
      { type: "noop", message: "demo: nothing runs" },
      JOB,
      executorEnv(),
    );
    expect(custom.output).toBe("demo: nothing runs");
  });
});

describe("executorFor", () => {
  const noop = (message: string): ExecutorConfig => ({ type: "noop", message });
  const executors: Record<string, ExecutorConfig> = {
    iam: noop("iam"),
    "iam.grant": noop("iam.grant"),
    "iam.grant.role.admin": noop("exact"),
    "*": noop("fallback"),
  };

  it("prefers the exact key, then the longest family prefix, then *", () => {
    expect(executorFor(executors, "iam.grant.role.admin")?.key).toBe("iam.grant.role.admin");
    expect(executorFor(executors, "iam.grant.role")?.key).toBe("iam.grant");
    expect(executorFor(executors, "iam.revoke")?.key).toBe("iam");
    expect(executorFor(executors, "iam")?.key).toBe("iam");
    expect(executorFor(executors, "iamx.grant")?.key).toBe("*"); // prefixes end at a dot
    expect(executorFor(executors, "db.export")).toEqual({ key: "*", config: noop("fallback") });
  });

  it("finds nothing without a match or *, and ignores inherited properties", () => {
    const { "*": _, ...withoutFallback } = executors;
    expect(executorFor(withoutFallback, "db.export")).toBeUndefined();
    expect(executorFor(withoutFallback, "constructor")).toBeUndefined();
    expect(executorFor(withoutFallback, "__proto__")).toBeUndefined();
  });
});

describe("executorConfigSchema", () => {
  const errorOf = (value: unknown): string => {
    const r = executorConfigSchema.safeParse(value);
    expect(r.success).toBe(false);
    return r.error!.issues.map((i) => `${i.path.join("/")}: ${i.message}`).join("; ");
  };

  it("accepts each type", () => {
    for (const config of [
      {
        type: "shell",
        command: ["./deploy.sh", "--prod"],
        params_via: "env",
        env: { A: "1" },
        cwd: "x",
        timeout_seconds: 60,
      },
      {
        type: "http",
        url: "https://hooks.example.com/interlock",
        secret_env: "HOOK_SECRET",
        headers: { "X-A": "b" },
      },
      { type: "module", module: "executors/refund.ts", export: "refund", timeout_seconds: 10 },
      { type: "noop" },
    ]) {
      expect(executorConfigSchema.safeParse(config).success).toBe(true);
    }
  });

  it("rejects a shell string as command", () => {
    expect(errorOf({ type: "shell", command: "./deploy.sh --prod" })).toContain("argv array");
    expect(errorOf({ type: "shell", command: [] })).toContain("command");
  });

  it("rejects unknown keys and unknown types", () => {
    expect(errorOf({ type: "shell", command: ["x"], shell: true })).toContain("shell");
    expect(errorOf({ type: "noop", mesage: "typo" })).toContain("mesage");
    expect(errorOf({ type: "ssh", host: "prod" })).toContain('"shell", "http", "module", "noop"');
  });

  it("rejects unsafe or impossible values", () => {
    expect(errorOf({ type: "shell", command: ["x"], timeout_seconds: 86_401 })).toContain(
      "timeout_seconds",
    );
    expect(
      errorOf({ type: "shell", command: ["x"], env: { INTERLOCK_REQUEST_ID: "spoof" } }),
    ).toContain("Interlock");
    expect(errorOf({ type: "http", url: "ftp://example.com/x", secret_env: "S" })).toContain(
      "http",
    );
    expect(errorOf({ type: "http", url: "https://u:p@example.com/", secret_env: "S" })).toContain(
      "credentials",
    );
    expect(
      errorOf({
        type: "http",
        url: "https://example.com/",
        secret_env: "S",
        headers: { "X-Interlock-Signature": "x" },
      }),
    ).toContain("set by Interlock");
    expect(errorOf({ type: "module", module: "/etc/evil.mjs" })).toContain("relative");
    expect(errorOf({ type: "module", module: "../evil.mjs" })).toContain("inside the repository");
    expect(errorOf({ type: "module", module: "executors/run.sh" })).toContain(".js");
  });

  it("runExecutor refuses an invalid config it is handed directly", async () => {
    const outcome = await runExecutor(
      { type: "shell", command: "./deploy.sh --prod" } as unknown as ExecutorConfig,
      JOB,
      executorEnv(),
    );
    expect(outcome).toMatchObject({ ok: false, status: "error" });
    expect(outcome.error).toContain("invalid executor config");
  });
});
