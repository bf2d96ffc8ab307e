/**
 * The same decision asked of an OPA server: `opa run --server` on the default policy sources
 * (Rego without tests, and the catalogue data at data.interlock.catalogue), queried over one
 * keep-alive HTTP connection. The server is always stopped, also on error.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import { defaultPoliciesDir } from "../src/policy/bundle.ts";
import { policyDecisionSchema } from "../src/policy/decision.ts";
import type { PolicyEngine, PolicyInput } from "../src/policy/engine.ts";
import { findOpa, opaVersion } from "../src/policy/toolchain.ts";
import { canonicalJson } from "../src/request/canonical.ts";
import type { SizedRequest } from "./decide.ts";
import { loopFor } from "./decide.ts";
import { percentile, timeAsync, type LatencyStats } from "./stats.ts";

export interface OpaServerResult {
  readonly opa: string;
  readonly version: string;
  readonly command: string;
  readonly sameData: boolean;
  readonly sameDecision: Record<string, boolean>;
  readonly roundTrip: Record<string, LatencyStats>;
  /** Server-side timers (?metrics=true, separate pass), p50 in µs. */
  readonly serverSide: Record<string, { handlerP50: number; evalP50: number; samples: number }>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

class OpaClient {
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 1 });
  constructor(readonly port: number) {}

  send(method: string, path: string, body?: string): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: "127.0.0.1",
          port: this.port,
          method,
          path,
          agent: this.#agent,
          headers:
            body === undefined
              ? {}
              : { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
          );
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  /** One decision, as a client would ask for it: serialize, POST, parse. */
  async decide(input: PolicyInput, query = ""): Promise<Record<string, unknown>> {
    const r = await this.send(
      "POST",
      `/v1/data/interlock/decision${query}`,
      JSON.stringify({ input }),
    );
    if (r.status !== 200) throw new Error(`OPA answered ${r.status}: ${r.text.slice(0, 300)}`);
    return JSON.parse(r.text) as Record<string, unknown>;
  }

  close(): void {
    this.#agent.destroy();
  }
}

async function waitReady(client: OpaClient, proc: ChildProcess, stderr: () => string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`opa exited (${proc.exitCode}): ${stderr()}`);
    try {
      if ((await client.send("GET", "/health")).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`opa did not become ready: ${stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
    proc.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    proc.kill("SIGTERM");
  });
}

export async function benchOpaServer(
  engine: PolicyEngine,
  requests: readonly SizedRequest[],
): Promise<OpaServerResult> {
  const opa = findOpa();
  const policies = defaultPoliciesDir();
  const port = await freePort();
  const args = [
    "run",
    "--server",
    "--addr",
    `127.0.0.1:${port}`,
    "--log-level",
    "error",
    "--skip-version-check",
    "--ignore",
    "dist",
    "--ignore",
    "*_test.rego",
    policies,
  ];
  const proc = spawn(opa, args, { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  proc.stderr?.on("data", (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
  const kill = () => proc.kill("SIGKILL");
  process.once("exit", kill);
  const client = new OpaClient(port);
  try {
    await waitReady(client, proc, () => err);

    // The server must hold the same data and give the same answers as the compiled bundle.
    const bundled = JSON.parse(readFileSync(join(policies, "dist", "data.json"), "utf8")) as {
      interlock: { catalogue: unknown };
    };
    const served = JSON.parse((await client.send("GET", "/v1/data/interlock/catalogue")).text) as {
      result?: unknown;
    };
    const sameData =
      canonicalJson(served.result ?? null) === canonicalJson(bundled.interlock.catalogue);
    if (!sameData) throw new Error("the OPA server's data.interlock.catalogue differs from dist/");
    const sameDecision: Record<string, boolean> = {};
    for (const r of requests) {
      const answer = await client.decide(r.input);
      const parsed = policyDecisionSchema.parse(answer.result);
      const server = { ...parsed, why: parsed.why ?? [] };
      const { revision: _revision, ...local } = engine.decide(r.input);
      sameDecision[r.label] = canonicalJson(server) === canonicalJson(local);
      if (!sameDecision[r.label]) {
        throw new Error(
          `the OPA server decided the ${r.label} request differently:\n server ${canonicalJson(server)}\n local  ${canonicalJson(local)}`,
        );
      }
    }

    const roundTrip: Record<string, LatencyStats> = {};
    const serverSide: OpaServerResult["serverSide"] = {};
    for (const r of requests) {
      const loop = loopFor(r.bytes);
      roundTrip[r.label] = await timeAsync(() => client.decide(r.input), {
        ...loop,
        warmup: Math.min(loop.warmup, 500),
        maxIterations: Math.min(loop.maxIterations, 5000),
      });
      const handler: number[] = [];
      const evaluation: number[] = [];
      const n = r.bytes < 10_000 ? 500 : 100;
      for (let i = 0; i < n; i++) {
        const m = (await client.decide(r.input, "?metrics=true")).metrics as Record<string, number>;
        handler.push((m.timer_server_handler_ns ?? Number.NaN) / 1000);
        evaluation.push((m.timer_rego_query_eval_ns ?? Number.NaN) / 1000);
      }
      handler.sort((a, b) => a - b);
      evaluation.sort((a, b) => a - b);
      serverSide[r.label] = {
        handlerP50: percentile(handler, 50),
        evalP50: percentile(evaluation, 50),
        samples: n,
      };
    }
    return {
      opa,
      version: opaVersion(opa),
      command: `opa ${args.join(" ").replace(policies, "policies")}`,
      sameData,
      sameDecision,
      roundTrip,
      serverSide,
    };
  } finally {
    client.close();
    await stop(proc);
    process.removeListener("exit", kill);
  }
}
