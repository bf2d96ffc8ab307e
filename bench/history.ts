/**
 * Generates an approvals repository with a long history, as the local forge would have written
 * it, through one `git fast-import` process instead of running the CLI per request.
 *
 * The repository starts as `interlock init` makes it (config, people and their SSH keys,
 * CODEOWNERS, policies). Then, per request, exactly what request → approve ×2 → merge →
 * execute writes:
 *  - the proposal commit adding requests/<action>/<id>.yaml (the real serializer, a real
 *    Evaluation of a real policy decision), authored by the requester identity and committed by
 *    Interlock, on refs/heads/interlock/<id>, and refs/interlock/requests/<id> (the original);
 *  - two approval tags on the proposal head, SSH-signed in process with the people's keys
 *    (byte-identical to `ssh-keygen -Y sign`; see sshsig-sign.ts);
 *  - the merge commit on main (parents: previous main, the proposal), message from the real
 *    mergeMessage() over the real gate verdict;
 *  - the claim ref, and the result commit adding results/<id>.yaml as execute writes it.
 * Sealing with age is done once per request template and the ciphertext reused.
 */
import {
  execFileSync,
  spawn,
  spawnSync,
  type ChildProcessWithoutNullStreams,
} from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { monotonicFactory } from "ulid";
import { stringify } from "yaml";
import { loadRepoContext } from "../src/cli/context.ts";
import { repoHomeOf } from "../src/cli/repository.ts";
import { loadConfig, ownerMembers, type InterlockConfig } from "../src/config/config.ts";
import { decideAndMask, type Evaluation } from "../src/decide.ts";
import { executorFor } from "../src/execution/executors.ts";
import {
  BRANCH_PREFIX,
  CLAIM_REF_PREFIX,
  INTERLOCK_IDENTITY,
  ORIGINAL_REF_PREFIX,
  requesterIdentity,
} from "../src/forge/refs.ts";
import { REVIEW_TAG_PREFIX, reviewMessage } from "../src/forge/local/reviews.ts";
import { parseCodeowners } from "../src/gate/codeowners.ts";
import { evaluateGate } from "../src/gate/gate.ts";
import { mergeMessage, type GateResult } from "../src/lifecycle/gate-check.ts";
import { initRepository } from "../src/lifecycle/init.ts";
import { KEYS_SUBDIR } from "../src/settings/home.ts";
import { benchHome } from "./lifecycle.ts";
import { seal, type SealedParams } from "../src/masking/seal.ts";
import { renderCard } from "../src/proposal/card.ts";
import { renderRequestFile, requestRecord } from "../src/proposal/request-file.ts";
import { parseRequest } from "../src/request/parse.ts";
import type { Request } from "../src/request/schema.ts";
import { loadEd25519Signer, type SshSigner } from "./sshsig-sign.ts";

// Obviously fake credentials in the real formats, assembled at run time so that no secret
// scanner mistakes this file for a leak.
const FAKE_GITHUB_TOKEN = "gh" + "p_" + "FAKE".repeat(8) + "0001";
const FAKE_GITHUB_TOKEN_2 = "gh" + "p_" + "FAKE".repeat(8) + "0002";
const FAKE_AWS_KEY = "AK" + "IA" + "FAKEFAKEFAKE0003";

/**
 * Request templates. All four are critical (a secret in the params, or an export outside the
 * allow-list), so each needs two groups and gets two approvals that both count.
 */
export const TEMPLATES = [
  `action: db.export
resource: postgres://prod/customers
params:
  query: "select id, plan, cancelled_at from customers where email = 'jane.doe@example.com' or phone = '+1 202-555-0143'"
  destination: s3://partner-share/churn/2026-11/
  format: parquet
reason: Quarterly churn sample for the partner's retention study
requester:
  id: agent:etl-bot
  kind: agent
  on_behalf_of: alice
ttl: 4h
`,
  `action: infra.apply
resource: terraform://prod/network
params:
  workspace: prod-eu
  plan: "module.vpc.aws_route_table.private: update in-place (2 changes)"
  registry_token: ${FAKE_GITHUB_TOKEN}
reason: Add the peering routes for the new analytics VPC
requester:
  id: pipeline:infra-ci
  kind: pipeline
  on_behalf_of: alice
ttl: 2h
`,
  `action: deploy.production
resource: k8s://prod-eu/shop
params:
  image: registry.acme.example/shop:2.14.1
  strategy: canary
  pull_secret: ${FAKE_GITHUB_TOKEN_2}
reason: Release 2.14.1 (checkout fixes)
requester:
  id: agent:release-bot
  kind: agent
  on_behalf_of: alice
ttl: 1h
`,
  `action: iam.grant
resource: aws://prod/iam
params:
  principal: user:bob
  role: ReadOnlyAccess
  session_token: ${FAKE_AWS_KEY}
reason: Bob joins the on-call rotation and needs read access
requester:
  id: agent:access-bot
  kind: agent
  on_behalf_of: alice
ttl: 4h
`,
];

interface Template {
  readonly request: Request;
  readonly evaluation: Evaluation;
  readonly sealed: SealedParams;
  /** One approver per approval group, distinct. */
  readonly approvers: readonly string[];
  readonly executorKey: string;
}

export interface GeneratedHistory {
  readonly dir: string;
  readonly requests: number;
  readonly approvalTags: number;
  readonly commits: number;
  readonly seconds: number;
  /** Peak RSS of git fast-import, in KiB. */
  readonly fastImportMaxRssKiB: number;
  readonly packBytes: number;
}

/** The repository's first commit time; request i is filed 10 minutes after request i-1. */
const T0 = Date.parse("2026-01-01T00:00:00.000Z");
const SPACING_MS = 10 * 60 * 1000;

async function templates(dir: string, config: InterlockConfig): Promise<Template[]> {
  const repo = await loadRepoContext(
    dir,
    dir,
    await repoHomeOf(dir, { INTERLOCK_HOME: benchHome(dir) }),
  );
  const members = ownerMembers(config);
  const out: Template[] = [];
  for (const text of TEMPLATES) {
    const request = parseRequest(text, { source: "template" });
    const evaluation = decideAndMask(request, {
      engine: repo.engine,
      now: new Date(T0),
      repo: repo.repoName,
      hmacKey: repo.hmacKey,
    });
    const d = evaluation.decision;
    if (!d.allow || d.approvals.groups.length !== 2) {
      throw new Error(
        `template ${request.action}: expected an allowed request needing two groups, got ${JSON.stringify(d)}`,
      );
    }
    const approvers: string[] = [];
    for (const g of d.approvals.groups) {
      const who = g.owners.flatMap((o) => members[o] ?? []).find((p) => !approvers.includes(p));
      if (who === undefined) throw new Error(`nobody can approve for ${g.name}`);
      approvers.push(who);
    }
    const executor = executorFor(config.executors.actions, request.action);
    if (executor === undefined) throw new Error(`no executor for ${request.action}`);
    out.push({
      request,
      evaluation,
      sealed: await seal(request.params ?? null, config.executors.recipients),
      approvers,
      executorKey: executor.key,
    });
  }
  return out;
}

/** A git fast-import process with get-mark round trips and back-pressure. */
class FastImport {
  readonly #proc: ChildProcessWithoutNullStreams;
  readonly #waiting: ((line: string) => void)[] = [];
  #out = "";
  #err = "";
  readonly rssFile: string;

  constructor(dir: string) {
    this.rssFile = join(dir, ".git", "fast-import.rss");
    this.#proc = spawn(
      "/usr/bin/time",
      ["-f", "%M %U %S", "-o", this.rssFile, "git", "fast-import", "--quiet", "--done"],
      {
        cwd: dir,
        env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" },
      },
    );
    this.#proc.stdout.setEncoding("utf8");
    this.#proc.stdout.on("data", (chunk: string) => {
      this.#out += chunk;
      let nl = this.#out.indexOf("\n");
      while (nl >= 0) {
        const line = this.#out.slice(0, nl);
        this.#out = this.#out.slice(nl + 1);
        this.#waiting.shift()?.(line);
        nl = this.#out.indexOf("\n");
      }
    });
    this.#proc.stderr.on(
      "data",
      (c: Buffer) => (this.#err = (this.#err + c.toString()).slice(-4000)),
    );
  }

  async write(text: string): Promise<void> {
    if (!this.#proc.stdin.write(text)) {
      await new Promise<void>((resolve, reject) => {
        const onExit = () => reject(new Error(`git fast-import exited: ${this.#err}`));
        this.#proc.once("exit", onExit);
        this.#proc.stdin.once("drain", () => {
          this.#proc.removeListener("exit", onExit);
          resolve();
        });
      });
    }
  }

  async getMark(mark: number): Promise<string> {
    const line = new Promise<string>((resolve) => this.#waiting.push(resolve));
    await this.write(`get-mark :${mark}\n`);
    const sha = await line;
    if (!/^[0-9a-f]{40}$/.test(sha)) throw new Error(`fast-import get-mark gave "${sha}"`);
    return sha;
  }

  async finish(): Promise<number> {
    await this.write("done\n");
    this.#proc.stdin.end();
    const code: number = await new Promise((r) => this.#proc.on("close", r));
    if (code !== 0) throw new Error(`git fast-import failed (${code}): ${this.#err}`);
    const usage = readFileSync(this.rssFile, "utf8").trim().split("\n").pop() ?? "";
    process.stderr.write(`fast-import: max RSS KiB, user s, sys s: ${usage}\n`);
    return Number(usage.split(" ")[0]);
  }
}

const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;
const when = (ms: number) => `${Math.floor(ms / 1000)} +0000`;
const ident = (who: { name: string; email: string }, ms: number) =>
  `${who.name} <${who.email}> ${when(ms)}`;

/** A git pack (version 2, no deltas) holding `objects`, for `git index-pack --stdin`. */
function packOf(objects: readonly { type: "tag"; content: Buffer }[]): Buffer {
  const TYPE = { tag: 4 } as const;
  const head = Buffer.alloc(12);
  head.write("PACK", 0, "latin1");
  head.writeUInt32BE(2, 4);
  head.writeUInt32BE(objects.length, 8);
  const parts: Buffer[] = [head];
  for (const o of objects) {
    let size = o.content.length;
    const bytes: number[] = [];
    let byte = (TYPE[o.type] << 4) | (size & 0x0f);
    size = Math.floor(size / 16);
    while (size > 0) {
      bytes.push(byte | 0x80);
      byte = size & 0x7f;
      size = Math.floor(size / 128);
    }
    bytes.push(byte);
    parts.push(Buffer.from(bytes), deflateSync(o.content));
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([body, createHash("sha1").update(body).digest()]);
}

const objectId = (type: string, content: Buffer) =>
  createHash("sha1").update(`${type} ${content.length}\0`).update(content).digest("hex");

/**
 * Creates `dir` with `interlock init` and a history of `count` executed requests.
 *
 * fast-import writes the blobs, commits and trees (it deltifies the large request and result
 * directory trees). The signed tag objects go into a pack of their own (index-pack), and the
 * five refs per request straight into packed-refs: fast-import would write each as a loose ref
 * file, which costs more than everything else at this size (a long-lived repository has its refs
 * packed anyway, by git gc).
 */
export async function generateHistory(dir: string, count: number): Promise<GeneratedHistory> {
  const started = performance.now();
  const init = await initRepository(dir, new Date(T0), { home: benchHome(dir) });
  const config = loadConfig(dir);
  const tpl = await templates(dir, config);
  const signers = new Map<string, SshSigner>();
  for (const who of new Set(tpl.flatMap((t) => t.approvers))) {
    const signer = loadEd25519Signer(join(init.home, KEYS_SUBDIR, who));
    if (signer.publicKey !== config.people[who]?.signing_key) {
      throw new Error(
        `the key of ${who} in the Interlock home is not ${who}'s configured signing key`,
      );
    }
    signers.set(who, signer);
  }
  const codeowners = parseCodeowners(readFileSync(join(dir, "CODEOWNERS"), "utf8"));
  const teams = ownerMembers(config);
  const requestId = monotonicFactory();
  const reviewId = monotonicFactory();
  const SCRATCH = "refs/bench/proposal";

  /** What does not depend on object ids: computed while fast-import works on the last one. */
  const prepare = (i: number) => {
    const t = tpl[i % tpl.length]!;
    const ev = t.evaluation;
    const filedAt = T0 + (i + 1) * SPACING_MS;
    const id = requestId(filedAt);
    const action = t.request.action;
    const path = `requests/${action}/${id}.yaml`;
    const record = requestRecord(id, new Date(filedAt), ev, t.sealed);
    const requester = requesterIdentity(t.request.requester.id);
    const title = `${action} on ${String(ev.request.resource)} [${ev.decision.risk}]`;
    const file = renderRequestFile(record);
    const card = renderCard(ev, { requestedAt: new Date(filedAt) });
    const reviews = t.approvers.map((who, k) => {
      const at = filedAt + (k + 1) * 60_000;
      return {
        who,
        at,
        person: config.people[who]!,
        name: `${REVIEW_TAG_PREFIX}${id}/${who}-${reviewId(at)}`,
      };
    });
    return { t, ev, filedAt, id, action, path, record, requester, title, file, card, reviews };
  };

  const refs: { name: string; oid: string; peeled?: string }[] = [];
  const tagObjects: { type: "tag"; content: Buffer }[] = [];
  const fi = new FastImport(dir);
  let mark = 0;
  let mainTip = init.commit;
  let next = prepare(0);
  for (let i = 0; i < count; i++) {
    const { t, ev, filedAt, id, action, path, record, requester, title, file, card, reviews } =
      next;

    // request: the proposal commit (its branch and original ref go to packed-refs below).
    const blob = ++mark;
    const proposal = ++mark;
    await fi.write(
      `blob\nmark :${blob}\n${data(file)}` +
        `commit ${SCRATCH}\nmark :${proposal}\n` +
        `author ${ident(requester, filedAt)}\ncommitter ${ident(INTERLOCK_IDENTITY, filedAt)}\n` +
        data(`${title}\n\n${card}\n`) +
        `from ${mainTip}\nM 100644 :${blob} ${path}\n\n`,
    );
    const headPromise = fi.getMark(proposal);
    if (i + 1 < count) next = prepare(i + 1);
    const head = await headPromise;
    refs.push({ name: `refs/heads/${BRANCH_PREFIX}${id}`, oid: head });
    refs.push({ name: `${ORIGINAL_REF_PREFIX}${id}`, oid: head });

    // approve ×2: signed tags on the head, as `git tag -s` writes them.
    for (const r of reviews) {
      const message = `${reviewMessage(id, "approved", head)}\n`;
      const payload =
        `object ${head}\ntype commit\ntag ${r.name}\n` +
        `tagger ${ident(r.person, r.at)}\n\n${message}`;
      const content = Buffer.from(payload + signers.get(r.who)!.sign(payload));
      tagObjects.push({ type: "tag", content });
      refs.push({ name: `refs/tags/${r.name}`, oid: objectId("tag", content), peeled: head });
    }

    // merge: the real gate verdict on this snapshot, and the real merge message.
    const mergedAt = filedAt + 3 * 60_000;
    const verdict = evaluateGate({
      now: new Date(mergedAt),
      request: {
        id,
        path,
        requester: t.request.requester,
        // TODO(bench): sign the generated proposal commits as the requester does.
        authentication: { verified: true, signer: t.request.requester.id, detail: "generated" },
        decision: ev.decision,
        expiresAt: new Date(record.expires_at),
        recordedDigest: record.digest,
        actualDigest: record.digest,
      },
      proposal: {
        author: requester.name,
        headCommit: head,
        changedFiles: [{ path, status: "added" }],
        committers: [requester.name],
      },
      reviews: reviews.map((r) => ({
        who: r.who,
        state: "approved",
        commit: head,
        at: new Date(r.at),
        isBot: false,
        verified: true,
        canApprove: true,
      })),
      teams,
      codeowners,
    });
    if (!verdict.satisfied) throw new Error(`generated request ${id}: ${verdict.summary}`);
    const message = mergeMessage({
      verdict,
      collected: { record },
      context: { headCommit: head },
    } as unknown as GateResult);
    const merge = ++mark;
    await fi.write(
      `commit refs/heads/main\nmark :${merge}\n` +
        `author ${ident(INTERLOCK_IDENTITY, mergedAt)}\ncommitter ${ident(INTERLOCK_IDENTITY, mergedAt)}\n` +
        data(`${message}\n`) +
        `${i === 0 ? `from ${init.commit}\n` : ""}merge :${proposal}\nM 100644 :${blob} ${path}\n\n`,
    );
    const mergeSha = await fi.getMark(merge);
    refs.push({ name: `${CLAIM_REF_PREFIX}${id}`, oid: mergeSha });

    // execute: the result commit.
    const ranAt = mergedAt + 60_000;
    const result = {
      interlock: 1,
      id,
      request: path,
      merge_commit: mergeSha,
      approvers: verdict.approvals.filter((a) => a.counted).map((a) => a.who),
      executor: { key: t.executorKey, type: "noop" },
      outcome: "succeeded",
      started_at: new Date(ranAt).toISOString(),
      finished_at: new Date(ranAt + 1).toISOString(),
      duration_ms: 1,
      output: `demo executor: would run ${action}`,
    };
    const resultBlob = ++mark;
    const resultCommit = ++mark;
    await fi.write(
      `blob\nmark :${resultBlob}\n` +
        data("# Interlock execution result (masked).\n" + stringify(result, { lineWidth: 0 })) +
        `commit refs/heads/main\nmark :${resultCommit}\n` +
        `author ${ident(INTERLOCK_IDENTITY, ranAt)}\ncommitter ${ident(INTERLOCK_IDENTITY, ranAt)}\n` +
        data(
          `Result of ${id}: succeeded\n\nInterlock-Result: ${id}\nInterlock-Outcome: succeeded\n`,
        ) +
        `M 100644 :${resultBlob} results/${id}.yaml\n\n`,
    );
    mainTip = `:${resultCommit}`;
  }
  const fastImportMaxRssKiB = await fi.finish();

  execFileSync("git", ["index-pack", "--stdin"], {
    cwd: dir,
    input: packOf(tagObjects),
    stdio: ["pipe", "ignore", "pipe"],
    maxBuffer: 1 << 20,
  });
  execFileSync("git", ["update-ref", "-d", SCRATCH], { cwd: dir });
  refs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  writeFileSync(
    join(dir, ".git", "packed-refs"),
    "# pack-refs with: peeled fully-peeled sorted \n" +
      refs.map((r) => `${r.oid} ${r.name}\n${r.peeled ? `^${r.peeled}\n` : ""}`).join(""),
  );
  // Packs main (and checks the file we wrote: git rewrites it from what it parsed).
  execFileSync("git", ["pack-refs", "--all"], { cwd: dir });
  const refCount =
    execFileSync("git", ["for-each-ref", "--format=x"], {
      cwd: dir,
      encoding: "utf8",
      maxBuffer: 64 << 20,
    }).length / 2;
  if (refCount !== refs.length + 1) {
    throw new Error(`expected ${refs.length + 1} refs after packing, git lists ${refCount}`);
  }
  const packBytes =
    Number(
      /size-pack: (\d+)/.exec(
        execFileSync("git", ["count-objects", "-v"], { cwd: dir, encoding: "utf8" }),
      )?.[1] ?? 0,
    ) * 1024;
  return {
    dir,
    requests: count,
    approvalTags: tagObjects.length,
    commits: 1 + 3 * count,
    seconds: (performance.now() - started) / 1000,
    fastImportMaxRssKiB,
    packBytes,
  };
}

/** Checks a few generated tags with the real `git verify-tag` (gpg.format ssh). */
export function verifyTagsWithGit(dir: string, config: InterlockConfig, sample = 4): string[] {
  const allowed = join(dir, ".git", "bench-allowed-signers");
  writeFileSync(
    allowed,
    Object.values(config.people)
      .filter((p) => p.signing_key)
      .map((p) => `${p.email} namespaces="git" ${p.signing_key}`)
      .join("\n") + "\n",
  );
  const tags = execFileSync(
    "git",
    ["for-each-ref", "--format=%(refname:short)", `refs/tags/${REVIEW_TAG_PREFIX}`],
    { cwd: dir, encoding: "utf8", maxBuffer: 1 << 28 },
  )
    .split("\n")
    .filter(Boolean);
  const picks = [...new Set([0, 1, Math.floor(tags.length / 2), tags.length - 1])]
    .slice(0, sample)
    .map((i) => tags[i]!)
    .filter(Boolean);
  return picks.map((tag) => {
    const r = spawnSyncText(
      "git",
      ["-c", "gpg.format=ssh", "-c", `gpg.ssh.allowedSignersFile=${allowed}`, "verify-tag", tag],
      dir,
    );
    if (r.code !== 0) throw new Error(`git verify-tag ${tag} failed: ${r.stderr}`);
    return `${tag}: ${r.stderr.trim().split("\n")[0]}`;
  });
}

function spawnSyncText(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8" });
  return { code: r.status ?? 1, stderr: `${r.stderr}${r.error ? String(r.error) : ""}` };
}
