import { AsyncLocalStorage } from "node:async_hooks";

/**
 * Counts GitHub API calls, attributed to the operations that made them. GitHub limits
 * content-creating requests to about 80 a minute and 500 an hour per identity, so every call an
 * Interlock operation makes is measured, not guessed.
 *
 * A call is attributed to every scope it happens in: `measure("execute", …)` around
 * `executeMerged` and the forge's own `forge.claim` inside it both count the claim's call.
 * Scopes follow the async call chain (AsyncLocalStorage), so concurrent operations are kept apart.
 */

/** One HTTP request sent to the API (each retry is a request of its own). */
export interface ApiCall {
  readonly method: string;
  /** The route template, e.g. "/repos/{owner}/{repo}/pulls/{pull_number}/reviews". */
  readonly route: string;
  /** The HTTP status, or 0 when no response arrived. */
  readonly status: number;
  /** The scopes the call was made in, outermost first. */
  readonly scopes: readonly string[];
}

export class ApiCallCounter {
  readonly #calls: ApiCall[] = [];
  readonly #scopes = new AsyncLocalStorage<readonly string[]>();

  /** Records one request (called by the Octokit hook that createOctokit installs). */
  record(method: string, route: string, status: number): void {
    this.#calls.push({
      method: method.toUpperCase(),
      route,
      status,
      scopes: this.#scopes.getStore() ?? [],
    });
  }

  /** Runs `fn` with `label` added to the scopes of every call it makes. */
  measure<T>(label: string, fn: () => Promise<T>): Promise<T> {
    const outer = this.#scopes.getStore() ?? [];
    return this.#scopes.run([...outer, label], fn);
  }

  /** Every call so far, oldest first. */
  get calls(): readonly ApiCall[] {
    return this.#calls;
  }

  /** The number of calls so far (a mark for `since`). */
  get total(): number {
    return this.#calls.length;
  }

  /** Calls made after `mark` (a previous `total`). */
  since(mark: number): readonly ApiCall[] {
    return this.#calls.slice(mark);
  }

  /** Calls made in scope `label` (at any depth). */
  count(label?: string): number {
    if (label === undefined) return this.#calls.length;
    return this.#calls.filter((c) => c.scopes.includes(label)).length;
  }

  /**
   * REST calls, GraphQL queries (POST /graphql, a separate rate limit counted in points) and
   * writes (REST calls other than GET) among the calls given (default: all).
   */
  kinds(calls: readonly ApiCall[] = this.#calls): {
    rest: number;
    graphql: number;
    writes: number;
  } {
    const graphql = calls.filter((c) => c.route === "/graphql").length;
    const writes = calls.filter((c) => c.method !== "GET" && c.route !== "/graphql").length;
    return { rest: calls.length - graphql, graphql, writes };
  }

  /** "METHOD route" → number of calls, for the calls given (default: all). */
  byRoute(calls: readonly ApiCall[] = this.#calls): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of calls) {
      const key = `${c.method} ${c.route}`;
      out[key] = (out[key] ?? 0) + 1;
    }
    return out;
  }

  /** Scope → number of calls made in it (a call counts for each scope it was in). */
  byScope(calls: readonly ApiCall[] = this.#calls): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of calls) {
      for (const s of new Set(c.scopes)) out[s] = (out[s] ?? 0) + 1;
    }
    return out;
  }
}
