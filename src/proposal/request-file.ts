import { stringify } from "yaml";
import type { Evaluation } from "../decide.ts";
import type { SealedParams } from "../masking/seal.ts";
import { digestOf } from "../request/canonical.ts";

/** Format version of requests/<action>/<id>.yaml. */
export const REQUEST_FILE_VERSION = 1;

/**
 * What a request file holds (SPEC §4): the masked request, what was found and masked (never
 * the values), the decision, and the original params sealed to the executors.
 */
export interface RequestRecord {
  readonly interlock: typeof REQUEST_FILE_VERSION;
  readonly id: string;
  readonly requested_at: string;
  readonly expires_at: string;
  readonly request: Record<string, unknown>;
  readonly findings: Evaluation["findings"];
  readonly masks: Evaluation["masks"];
  readonly decision: Evaluation["decision"];
  readonly sealed: SealedParams | null;
  /** Digest of everything above: the gate and the executor check the file against it. */
  readonly digest: string;
}

export function requestRecord(
  id: string,
  requestedAt: Date,
  ev: Evaluation,
  sealed: SealedParams | null,
): RequestRecord {
  const body = {
    interlock: REQUEST_FILE_VERSION,
    id,
    requested_at: requestedAt.toISOString(),
    expires_at: new Date(requestedAt.getTime() + ev.decision.ttl_seconds * 1000).toISOString(),
    request: ev.request,
    findings: ev.findings,
    masks: ev.masks,
    decision: ev.decision,
    sealed,
  } as const;
  return { ...body, digest: digestOf(body) };
}

/** The YAML written to Git. Only masked material goes in; see the property tests. */
export function renderRequestFile(record: RequestRecord): string {
  const header =
    "# Interlock request. Values found sensitive are masked; the original params are sealed\n" +
    "# to the executors below. Approve this by reviewing the pull request, not by editing it.\n";
  return header + stringify(record, { lineWidth: 0, aliasDuplicateObjects: false });
}
