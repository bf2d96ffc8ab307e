import { parseDocument, stringify } from "yaml";
import { z } from "zod";
import { REQUEST_ID } from "../forge/refs.ts";
import type { Evaluation } from "../decide.ts";
import type { SealedParams } from "../masking/seal.ts";
import { digestOf } from "../request/canonical.ts";
import { readYamlSubset } from "./yaml-subset.ts";

/** Format version of requests/<action>/<id>.yaml. */
export const REQUEST_FILE_VERSION = 1;

/**
 * What a request file holds (docs/repository.md): the masked request, what was found and masked (never
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

/** What the gate and the executor read back from a request file. Validated, not trusted. */
export const requestFileSchema = z.looseObject({
  interlock: z.literal(REQUEST_FILE_VERSION),
  id: z.string().regex(REQUEST_ID),
  requested_at: z.iso.datetime(),
  expires_at: z.iso.datetime(),
  request: z.looseObject({
    action: z.string(),
    resource: z.string().optional(),
    requester: z.looseObject({
      id: z.string(),
      kind: z.enum(["agent", "human", "pipeline"]),
      on_behalf_of: z.string().optional(),
    }),
  }),
  decision: z.looseObject({
    allow: z.boolean(),
    deny: z.array(z.string()),
    risk: z.string(),
    classification: z.array(z.string()),
    auto_approve: z.boolean(),
    approvals: z.object({
      groups: z.array(z.object({ name: z.string(), owners: z.array(z.string()), min: z.number() })),
    }),
    ttl_seconds: z.number(),
    revision: z.string(),
  }),
  sealed: z
    .object({
      format: z.literal("age"),
      recipients: z.array(z.string()),
      ciphertext: z.string(),
      digest: z.string(),
    })
    .nullable(),
  digest: z.string(),
});
export type ParsedRequestFile = z.infer<typeof requestFileSchema>;

/**
 * Reads a request file back. Returns the record and the digest recomputed over its content
 * (everything but `digest`), so a caller can compare it with the recorded one.
 */
export function parseRequestFile(
  text: string,
): { record: ParsedRequestFile; actualDigest: string } | { error: string } {
  // What Interlock renders is read in one pass (yaml-subset.ts); anything else by the library.
  let value: unknown = readYamlSubset(text);
  if (value === undefined)
    try {
      const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
      if (doc.errors.length > 0)
        return { error: `malformed YAML (${doc.errors[0]!.code.toLowerCase()})` };
      value = doc.toJS({ maxAliasCount: 0 });
    } catch (err) {
      return { error: (err as Error).message.split("\n")[0]! };
    }
  const parsed = requestFileSchema.safeParse(value);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    return {
      error: `not an Interlock request file (${i.path.join(".") || "top level"}: ${i.message})`,
    };
  }
  const { digest: _digest, ...body } = value as Record<string, unknown>;
  return { record: parsed.data, actualDigest: digestOf(body) };
}

/** The record of a request file's text, or undefined when there is none or it cannot be read. */
export function recordOf(text: string | undefined): ParsedRequestFile | undefined {
  if (text === undefined) return undefined;
  const parsed = parseRequestFile(text);
  return "record" in parsed ? parsed.record : undefined;
}
