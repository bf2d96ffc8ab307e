import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { ExecutionJob, ExecutorEnv, HttpExecutorConfig, RunResult } from "./executors.ts";

/**
 * The http executor POSTs the job as JSON to a receiver (a webhook), signed so the receiver can
 * tell it came from Interlock and was not altered or replayed. The scheme follows Stripe's and
 * GitHub's webhooks:
 *
 *   X-Interlock-Timestamp: <unix seconds>
 *   X-Interlock-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 *   Idempotency-Key / X-Interlock-Request: <request id>
 *
 * A receiver recomputes the HMAC over the raw body it received, compares in constant time, and
 * rejects a timestamp outside its tolerance (`verifyWebhookSignature` does all three). It
 * should also remember the Idempotency-Key: a retried delivery carries the same one.
 *
 * The body holds the unsealed params: use https outside a trusted network. Redirects are never
 * followed (a signed request must go only where the reviewed config says), and a request is
 * never sent unsigned: without the secret the executor stops with an error.
 */

export const DEFAULT_HTTP_TIMEOUT_SECONDS = 30;
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

/** Memory guard for the response body; the dispatcher cuts the recorded text much shorter. */
const RESPONSE_LIMIT_BYTES = 1024 * 1024;

/** Headers Interlock sets itself; config may not override them. */
const RESERVED_HEADERS = [
  "content-type",
  "content-length",
  "host",
  "idempotency-key",
  "transfer-encoding",
];

const headerName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "must be an HTTP header name")
  .refine(
    (name) =>
      !RESERVED_HEADERS.includes(name.toLowerCase()) &&
      !name.toLowerCase().startsWith("x-interlock-"),
    "is set by Interlock and cannot be configured",
  );

export const httpExecutorSchema = z.strictObject({
  type: z.literal("http"),
  url: z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }).refine((u) => {
    const parsed = new URL(u);
    return parsed.username === "" && parsed.password === "";
  }, "must not contain credentials (user:password@): they would be committed to Git"),
  /** Name of the environment variable that holds the HMAC secret shared with the receiver. */
  secret_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name"),
  timeout_seconds: z.number().positive().max(86_400).optional(),
  /** Extra headers (committed to Git: no secrets here). */
  headers: z
    .record(z.string(), z.string().regex(/^[^\r\n\0]*$/, "must be a single line"))
    .superRefine((headers, ctx) => {
      // Checked here rather than as the record's key schema, whose message would only be
      // "Invalid key in record".
      for (const name of Object.keys(headers)) {
        const checked = headerName.safeParse(name);
        if (!checked.success) {
          ctx.addIssue({ code: "custom", path: [name], message: checked.error.issues[0]!.message });
        }
      }
    })
    .optional(),
});

export async function runHttp(
  config: HttpExecutorConfig,
  job: ExecutionJob,
  env: ExecutorEnv,
): Promise<RunResult> {
  const target = describeUrl(config.url);
  const secret = env.env[config.secret_env];
  if (secret === undefined || secret === "") {
    return failed(
      "error",
      `environment variable ${config.secret_env} is not set: it must hold the HMAC secret shared with ` +
        `${target}. Interlock never sends an unsigned request; set ${config.secret_env} for the executor ` +
        "(e.g. as a CI secret), or change secret_env in the executor config.",
    );
  }
  let body: string;
  try {
    body = JSON.stringify({
      request_id: job.requestId,
      action: job.action,
      resource: job.resource,
      params: job.params ?? null,
      attempt: job.attempt,
    });
  } catch {
    return failed("error", "the params cannot be serialised as JSON");
  }
  const timestamp = Math.floor(env.now().getTime() / 1000);
  const timeoutSeconds = config.timeout_seconds ?? DEFAULT_HTTP_TIMEOUT_SECONDS;
  const signal = AbortSignal.timeout(timeoutSeconds * 1000);
  try {
    const response = await fetch(config.url, {
      method: "POST",
      headers: requestHeaders(config, job, timestamp, signWebhook(secret, timestamp, body)),
      body,
      redirect: "manual",
      signal,
    });
    const text = await readCapped(response);
    return responseResult(response, text, target);
  } catch (err) {
    if (signal.aborted) {
      return failed("timed_out", `no complete answer from ${target} within ${timeoutSeconds} s`);
    }
    return failed("error", `could not reach ${target}: ${networkReason(err)}`);
  }
}

function requestHeaders(
  config: HttpExecutorConfig,
  job: ExecutionJob,
  timestamp: number,
  signature: string,
): Headers {
  const headers = new Headers(config.headers ?? {});
  headers.set("Content-Type", "application/json");
  headers.set("Idempotency-Key", job.requestId);
  headers.set("X-Interlock-Request", job.requestId);
  headers.set("X-Interlock-Timestamp", String(timestamp));
  headers.set("X-Interlock-Signature", signature);
  return headers;
}

/** 2xx succeeded; anything else (a redirect included) failed, with the status. */
function responseResult(response: Response, text: string, target: string): RunResult {
  const http_status = response.status;
  if (http_status >= 200 && http_status < 300)
    return { status: "succeeded", http_status, output: text };
  const error =
    http_status >= 300 && http_status < 400
      ? `${target} answered HTTP ${http_status} (redirect to ${response.headers.get("location") ?? "?"}): ` +
        "redirects are not followed; configure the final URL"
      : `${target} answered HTTP ${http_status}${response.statusText ? ` ${response.statusText}` : ""}`;
  return { status: "failed", http_status, output: text, error };
}

/** Reads the body up to the memory guard, then stops downloading. */
async function readCapped(response: Response): Promise<string> {
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let kept = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value.subarray(0, RESPONSE_LIMIT_BYTES - kept));
    kept += Math.min(value.length, RESPONSE_LIMIT_BYTES - kept);
    if (kept >= RESPONSE_LIMIT_BYTES) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** `sha256=<hex>` over "<timestamp>.<body>": the value of X-Interlock-Signature. */
export function signWebhook(
  secret: string,
  timestamp: number | string,
  body: string | Uint8Array,
): string {
  return (
    "sha256=" + createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest("hex")
  );
}

/**
 * For receivers: true when `header` (X-Interlock-Signature) is the signature of `body` (the raw
 * bytes received, before any JSON parsing) at `timestamp` (X-Interlock-Timestamp) with `secret`,
 * and the timestamp is within `toleranceSeconds` of `now` in either direction. The comparison is
 * constant-time. Reject the request when this returns false.
 */
export function verifyWebhookSignature(
  secret: string,
  timestamp: string | number | null | undefined,
  body: string | Uint8Array,
  header: string | null | undefined,
  now: Date,
  toleranceSeconds: number = DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
): boolean {
  if (secret === "" || header === null || header === undefined) return false;
  const ts =
    typeof timestamp === "number"
      ? timestamp
      : /^[0-9]{1,12}$/.test(timestamp ?? "")
        ? Number(timestamp)
        : NaN;
  if (!Number.isSafeInteger(ts)) return false;
  if (Math.abs(Math.floor(now.getTime() / 1000) - ts) > toleranceSeconds) return false;
  if (!/^sha256=[0-9a-f]{64}$/.test(header)) return false;
  // Sign the timestamp as it was sent, so "0123" and "123" are different messages.
  const expected = Buffer.from(signWebhook(secret, String(timestamp), body));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The URL without query or fragment (they may carry tokens), for messages. */
function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return "the configured URL";
  }
}

/** fetch reports "fetch failed"; the useful part (ECONNREFUSED, ENOTFOUND, …) is in the cause. */
function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}

function failed(status: "error" | "timed_out", error: string): RunResult {
  return { status, output: "", error };
}
