import { monotonicFactory } from "ulid";
import { decideAndMask, type DecideContext, type Evaluation } from "../decide.ts";
import type { Forge } from "../forge/forge.ts";
import type { SshSigningKey } from "../forge/local/sshsig.ts";
import { seal } from "../masking/seal.ts";
import { commitText } from "../presentation/escape.ts";
import { renderCardMarkdown } from "../proposal/card.ts";
import { renderRequestFile, requestRecord } from "../proposal/request-file.ts";
import type { Request } from "../request/schema.ts";
import { CORRELATION_RE, CORRELATION_TRAILER, denialPath, requestPath } from "../forge/refs.ts";

/** Request ids: ULIDs (sortable by time, 80 random bits: unguessable). */
export const newRequestId: (seedTime?: number) => string = monotonicFactory();

export interface FiledRequest {
  readonly id: string;
  readonly denied: boolean;
  /** requests/<action>/<id>.yaml on the proposal, or denials/<id>.yaml on the default branch. */
  readonly path: string;
  readonly branch?: string;
  readonly head?: string;
  readonly url?: string;
  readonly evaluation: Evaluation;
  /** The request file as written (masked): the record a notification is built from. */
  readonly content: string;
}

/**
 * request → decision → masking → sealing → proposal. A denial is recorded on the default
 * branch as evidence (it never becomes an approvable proposal). Only masked material and the
 * sealed params are written.
 */
export async function fileRequest(
  request: Request,
  deps: {
    forge: Forge;
    decide: DecideContext;
    recipients: readonly string[];
    id?: string;
    /** The requester's key; the local forge signs the proposal with it. */
    signingKey?: SshSigningKey;
    /**
     * The caller's correlation token (letters, digits, `_`, `-`), echoed as an
     * `Interlock-Correlation:` line in the proposal's body and in a denial's commit message.
     */
    correlation?: string;
  },
): Promise<FiledRequest> {
  const id = deps.id ?? newRequestId(deps.decide.now.getTime());
  const ev = decideAndMask(request, deps.decide);
  const now = deps.decide.now;
  if (deps.correlation !== undefined && !CORRELATION_RE.test(deps.correlation)) {
    throw new Error("a correlation token is 16 to 64 letters, digits, '_' or '-'");
  }
  const correlated = deps.correlation ? `\n${CORRELATION_TRAILER}: ${deps.correlation}` : "";
  if (!ev.decision.allow) {
    const path = denialPath(id);
    const content = renderRequestFile(requestRecord(id, now, ev, null));
    await deps.forge.recordDenial({
      id,
      path,
      content,
      message: `Denied ${commitText(request.action)}: ${commitText(ev.decision.deny[0] ?? "denied by policy")}\n\nInterlock-Denied: ${id}\nInterlock-Policy: ${ev.decision.revision}${correlated}`,
      date: now,
    });
    return { id, denied: true, path, evaluation: ev, content };
  }
  // The whole original request is sealed (params included), so that the executor can re-check
  // the decision and the masked file against what was really asked.
  const sealed = await seal(request, deps.recipients);
  const path = requestPath(request.action, id);
  const record = requestRecord(id, now, ev, sealed);
  const content = renderRequestFile(record);
  // The title heads the proposal's commit message: one line, untrusted parts escaped.
  const title = `${commitText(request.action)} on ${commitText(String(ev.request.resource))} [${ev.decision.risk}]`;
  const opened = await deps.forge.openProposal({
    id,
    path,
    content,
    title,
    body: renderCardMarkdown(ev, { requestedAt: now }) + (correlated ? `\n${correlated}\n` : ""),
    requester: request.requester,
    ...(deps.signingKey ? { signingKey: deps.signingKey } : {}),
    date: now,
  });
  return {
    id,
    denied: false,
    path,
    branch: opened.branch,
    head: opened.head,
    ...(opened.url ? { url: opened.url } : {}),
    evaluation: ev,
    content,
  };
}
