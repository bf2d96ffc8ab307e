import type { ParsedRequestFile } from "../proposal/request-file.ts";

/**
 * How far a filing time may lie ahead of the verifier's own clock (clocks of different machines
 * disagree a little). A filing time later than that is refused: nobody files in the future.
 */
export const FILING_SKEW_MS = 5 * 60_000;

/** Git records commit times in whole seconds; the request file in milliseconds. */
const GIT_TIME_GRANULARITY_MS = 1000;

export interface FilingTime {
  /** When the request was filed: the time of the proposal commit Interlock recorded. */
  readonly filedAt: Date;
  /** filedAt + the decision's TTL. A stored expires_at is never trusted. */
  readonly expiresAt: Date;
  /** Why this time cannot be trusted (empty when it can). */
  readonly problems: readonly string[];
}

/**
 * Expiry is the filing time plus the decision's TTL. The filing time is the time of the commit
 * the request was filed with, as the forge vouches for it (local: the signed baseline commit
 * refs/interlock/requests/<id>; GitHub: the commit Interlock's App filed it with); the request
 * file's own requested_at and expires_at are only cross-checks that must agree.
 */
export function filingTime(filedAt: Date, record: ParsedRequestFile, now: Date): FilingTime {
  const ttl = Number.isFinite(record.decision.ttl_seconds)
    ? Math.max(0, record.decision.ttl_seconds)
    : 0;
  const expiresAt = new Date(filedAt.getTime() + ttl * 1000);
  const problems: string[] = [];
  if (filedAt.getTime() > now.getTime() + FILING_SKEW_MS) {
    problems.push(
      `the request claims to be filed at ${filedAt.toISOString()}, later than this verifier's ` +
        `clock (${now.toISOString()}) plus ${FILING_SKEW_MS / 60_000} minutes: a filing time in the future is not trusted`,
    );
  }
  const agrees = (stored: string, expected: Date) => {
    const d = Date.parse(stored) - expected.getTime();
    return Number.isFinite(d) && d >= 0 && d < GIT_TIME_GRANULARITY_MS;
  };
  if (!agrees(record.requested_at, filedAt)) {
    problems.push(
      `the request file says requested_at ${record.requested_at}, but it was filed at ${filedAt.toISOString()}`,
    );
  }
  if (!agrees(record.expires_at, expiresAt)) {
    problems.push(
      `the request file says expires_at ${record.expires_at}, but filed at ${filedAt.toISOString()} ` +
        `with a TTL of ${ttl} s it expires at ${expiresAt.toISOString()}`,
    );
  }
  return { filedAt, expiresAt, problems };
}
