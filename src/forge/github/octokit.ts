import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import type { ApiCallCounter } from "./api-call-counter.ts";

/** The Octokit client the GitHub forge uses: REST, throttling, retries, call counting. */
export type GitHubClient = Octokit;

/** Where warnings go (rate limits hit, retries). Errors are thrown to the caller, never logged. */
export interface OctokitLog {
  warn(message: string): void;
}

export interface CreateOctokitOptions {
  /** A token: a GitHub App installation token, GITHUB_TOKEN in Actions, or a fine-grained PAT. */
  readonly token: string;
  /** The API root (default https://api.github.com; GHES: https://host/api/v3). */
  readonly baseUrl?: string;
  readonly userAgent?: string;
  /** Counts every HTTP request sent, retries included (see ApiCallCounter). */
  readonly counter?: ApiCallCounter;
  /**
   * "github" (default): plugin-throttling paces content-creating requests the way GitHub asks
   * (one at a time, a second apart) and handles rate-limit responses. "none": no pacing and no
   * waiting on rate limits at all, for a local API such as the test simulator; a rate-limit
   * response then fails the request at once.
   */
  readonly pacing?: "github" | "none";
  /** The longest rate-limit wait that is retried rather than reported (default 60 s). */
  readonly maxRetryAfterSeconds?: number;
  /**
   * Milliseconds per second of a `retry-after` (default 1000). A test passes 1, so that a
   * simulated rate limit is retried without waiting: nothing ever hangs.
   */
  readonly msPerSecond?: number;
  /** Warnings about rate limits (default: console.warn). */
  readonly log?: OctokitLog;
}

/** Statuses that retrying cannot fix (client errors, conflicts, a moved head). */
const DO_NOT_RETRY = [400, 401, 403, 404, 405, 409, 410, 422, 451];

/**
 * Builds the Octokit client: `Octokit.plugin(throttling, retry)` plus a hook that counts API
 * calls. Rate limits are retried once, and only when the wait is short (GitHub's secondary
 * limits ask for about a minute); otherwise the request fails with GitHub's message, so a
 * workflow reports the limit instead of hanging until the job times out.
 */
export function createOctokit(options: CreateOctokitOptions): GitHubClient {
  const maxWait = options.maxRetryAfterSeconds ?? 60;
  const perSecond = options.msPerSecond ?? 1000;
  const log: OctokitLog = options.log ?? { warn: (m) => console.warn(m) };
  const onLimit =
    (kind: string) =>
    (retryAfter: number, req: { method?: string; url?: string }, _octokit: unknown, n: number) => {
      const retrying = n < 1 && retryAfter <= maxWait;
      log.warn(
        `GitHub ${kind} rate limit hit by ${req.method ?? "?"} ${req.url ?? "?"}: ` +
          (retrying
            ? `retrying once in ${retryAfter} s`
            : n >= 1
              ? "already retried once, giving up"
              : `the wait (${retryAfter} s) is longer than ${maxWait} s, giving up`),
      );
      return retrying;
    };

  const Client = Octokit.plugin(countCalls, throttling, retry);
  return new Client({
    auth: options.token,
    baseUrl: options.baseUrl ?? "https://api.github.com",
    userAgent: options.userAgent ?? "interlock",
    counter: options.counter,
    log: { debug: () => {}, info: () => {}, warn: (m: string) => log.warn(m), error: () => {} },
    throttle:
      options.pacing === "none"
        ? { enabled: false, onRateLimit: () => false, onSecondaryRateLimit: () => false }
        : {
            onRateLimit: onLimit("primary"),
            onSecondaryRateLimit: onLimit("secondary"),
            retryAfterBaseValue: perSecond,
          },
    retry: { doNotRetry: DO_NOT_RETRY, retries: 2, retryAfterBaseValue: perSecond },
  });
}

/** The HTTP status of an Octokit error (RequestError), or undefined for other errors. */
export function httpStatus(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null || !("status" in err)) return undefined;
  const s = (err as { status: unknown }).status;
  return typeof s === "number" ? s : undefined;
}

/**
 * A plugin that records every request in the `counter` option. It is registered before
 * throttling and retry, so it sits inside them and counts each attempt, as GitHub does.
 */
function countCalls(octokit: { hook: Octokit["hook"] }, opts: Record<string, unknown>) {
  const counter = opts.counter as ApiCallCounter | undefined;
  if (counter === undefined) return {};
  octokit.hook.wrap("request", async (request, req) => {
    try {
      const response = await request(req);
      counter.record(req.method, routeOf(req.url), response.status);
      return response;
    } catch (err) {
      counter.record(req.method, routeOf(req.url), httpStatus(err) ?? 0);
      throw err;
    }
  });
  return {};
}

/**
 * The route template of a request. Octokit passes templates ("/repos/{owner}/{repo}/pulls"),
 * except for pages after the first, whose URL is absolute and expanded; those are mapped back
 * to the same templates so that calls are counted per route.
 */
function routeOf(url: string): string {
  if (!/^https?:\/\//.test(url)) return url;
  let path = new URL(url).pathname.replace(/^\/api\/v3(?=\/)/, "");
  path = path
    .replace(/^\/repos\/[^/]+\/[^/]+/, "/repos/{owner}/{repo}")
    .replace(/^\/orgs\/[^/]+/, "/orgs/{org}")
    .replace(/\/teams\/[^/]+\/members$/, "/teams/{team_slug}/members")
    .replace(/\/(pulls|issues)\/\d+(?=\/|$)/, (_, kind: string) =>
      kind === "pulls" ? "/pulls/{pull_number}" : "/issues/{issue_number}",
    );
  return path;
}
