/**
 * Generates an approvals repository with a long history, valid under today's rules, as the
 * local forge would have written it, without running the CLI per request.
 *
 * The repository starts as `interlock init` makes it (config, people and agents with their SSH
 * keys in a fresh Interlock home, CODEOWNERS, policies, the initial commit pinned as the trust
 * root): the keys are generated at run time. Then, per request, what request → approve ×2 →
 * merge → execute writes:
 *  - the proposal commit adding requests/<action>/<id>.yaml (the real serializer over a real
 *    Evaluation), authored by the requester identity, committed by Interlock and SSH-signed by
 *    the filing agent's key in its gpgsig header (signCommitObject, as openProposal signs), on
 *    refs/heads/interlock/<id> and refs/interlock/requests/<id> (the baseline);
 *  - two approval tags on the proposal head, SSH-signed with the reviewers' keys (the second
 *    names the first in a signed `seen:` line, as recordReview writes it);
 *  - the merge commit on main (parents: main, the proposal), its message from the real
 *    mergeMessage() over the real gate verdict; the claim ref;
 *  - the result file results/<id>.yaml as execute writes it. Results are committed in batches
 *    of RESULT_BATCH requests (one commit adding each batch's files, after its merges): every
 *    commit on main carries the whole results/ tree, and one commit per result would make the
 *    generator hash Θ(n²) bytes of trees (300 GB at 100,000 requests).
 *
 * Every object is written in-process into one pack (blobs, commits, tags deflated; each new
 * version of the large requests/<action>/ and results/ trees as a delta that appends to the
 * previous version, with a full copy every TREE_DELTA_DEPTH versions) with its .idx, and the
 * refs straight into packed-refs: no git process per object, and nothing of the repository's
 * configuration runs. Signatures are made in-process (ed25519, deterministic: byte-identical
 * to ssh-keygen -Y sign). The generated history is cached under ~/.cache/interlock-bench (or
 * BENCH_CACHE), keyed by GENERATOR_VERSION and the size, and copied from there.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { crc32, deflateSync } from "node:zlib";
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
import { REVIEW_TAG_PREFIX, reviewMessage, reviewTagPayload } from "../src/forge/local/reviews.ts";
import { signCommitObject } from "../src/forge/local/signed-request.ts";
import { parseSshPrivateKey, type SshSigningKey } from "../src/forge/local/sshsig.ts";
import { parseCodeowners } from "../src/gate/codeowners.ts";
import { evaluateGate } from "../src/gate/gate.ts";
import { directoryOf } from "../src/identity/directory.ts";
import { mergeMessage, type GateResult } from "../src/lifecycle/gate-check.ts";
import { initRepository } from "../src/lifecycle/init.ts";
import { commitText } from "../src/presentation/escape.ts";
import { KEYS_SUBDIR } from "../src/settings/home.ts";
import { seal, type SealedParams } from "../src/masking/seal.ts";
import { renderCardMarkdown } from "../src/proposal/card.ts";
import { renderRequestFile, requestRecord } from "../src/proposal/request-file.ts";
import { parseRequest } from "../src/request/parse.ts";
import type { Request } from "../src/request/schema.ts";

/** Bumped whenever what the generator writes changes: the cache key. */
export const GENERATOR_VERSION = 4;
/** Requests whose results are committed together (see above). */
export const RESULT_BATCH = 10;
/** A full copy of a large tree every this many versions (git's own pack.depth is 50). */
const TREE_DELTA_DEPTH = 200;

// Obviously fake credentials in the real formats, assembled at run time so that no secret
// scanner mistakes this file for a leak.
const FAKE_GITHUB_TOKEN = "gh" + "p_" + "FAKE".repeat(8) + "0001";
const FAKE_GITHUB_TOKEN_2 = "gh" + "p_" + "FAKE".repeat(8) + "0002";
const FAKE_AWS_KEY = "AK" + "IA" + "FAKEFAKEFAKE0003";

/**
 * Request templates, filed by the demo agents (each signs with its own key; their sponsor,
 * alice, is bound in the config and approves nothing). All four are critical (a secret in the
 * params, or an export outside the allow-list), so each needs two groups and gets two
 * approvals that both count.
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
  id: agent:catalogue-bot
  kind: agent
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
  id: agent:etl-bot
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
  id: agent:catalogue-bot
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
  /** Generation time (0 when the history came from the cache). */
  readonly seconds: number;
  /** Where it came from: generated now, or copied from the cache. */
  readonly source: "generated" | "cache";
  /** Peak RSS of the generating process, in KiB (kept for the report's columns). */
  readonly fastImportMaxRssKiB: number;
  readonly packBytes: number;
  /** The initial commit (the trust root pinned in `home`). */
  readonly root: string;
  /** The Interlock home that pins the root and holds the keys (a sibling of `dir`). */
  readonly home: string;
}

/**
 * The first commit's time; request i is filed SPACING_MS after request i-1, so that 100,000
 * requests end in 2025, before any verifier's clock (a filing time in the future is refused).
 */
const T0 = Date.parse("2025-01-01T00:00:00.000Z");
const SPACING_MS = 5 * 60 * 1000;

/** The Interlock home of a generated repository: a sibling directory, never inside it. */
export function historyHome(dir: string): string {
  return `${dir}.interlock-home`;
}

async function templates(dir: string, home: string, config: InterlockConfig): Promise<Template[]> {
  const repo = await loadRepoContext(dir, dir, await repoHomeOf(dir, { INTERLOCK_HOME: home }));
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
      // As fileRequest seals: the whole original request, to the executors.
      sealed: await seal(request, config.executors.recipients),
      approvers,
      executorKey: executor.key,
    });
  }
  return out;
}

// ------------------------------------------------------------------ the pack writer

const OBJ = { commit: 1, tree: 2, blob: 3, tag: 4, ofsDelta: 6 } as const;
type ObjType = "commit" | "tree" | "blob" | "tag";

function objectId(type: ObjType, content: Buffer): Buffer {
  return createHash("sha1").update(`${type} ${content.length}\0`).update(content).digest();
}

/** Writes a version-2 pack and its version-2 index, streaming, with no git process. */
class PackWriter {
  readonly #fd: number;
  #offset = 0;
  readonly #oids: Buffer[] = [];
  readonly #offsets: number[] = [];
  readonly #crcs: number[] = [];
  readonly #known = new Set<string>();
  readonly #tmp: string;

  constructor(readonly packDir: string) {
    mkdirSync(packDir, { recursive: true });
    this.#tmp = join(packDir, "tmp_bench_pack");
    this.#fd = openSync(this.#tmp, "w");
    const head = Buffer.alloc(12);
    head.write("PACK", 0, "latin1");
    head.writeUInt32BE(2, 4);
    head.writeUInt32BE(0, 8); // the count is patched at the end
    this.#put(head);
  }

  #put(buf: Buffer): void {
    writeSync(this.#fd, buf);
    this.#offset += buf.length;
  }

  #entry(type: number, size: number, extra: Buffer | undefined, data: Buffer, oid: Buffer) {
    const bytes: number[] = [];
    let byte = (type << 4) | (size & 0x0f);
    let rest = Math.floor(size / 16);
    while (rest > 0) {
      bytes.push(byte | 0x80);
      byte = rest & 0x7f;
      rest = Math.floor(rest / 128);
    }
    bytes.push(byte);
    const z = deflateSync(data, { level: 1 });
    const parts = [Buffer.from(bytes), ...(extra ? [extra] : []), z];
    let crc = 0;
    for (const p of parts) crc = crc32(p, crc);
    this.#oids.push(oid);
    this.#offsets.push(this.#offset);
    this.#crcs.push(crc);
    for (const p of parts) this.#put(p);
  }

  /** Adds an object (once); returns its id. */
  add(type: ObjType, content: Buffer): string {
    const oid = objectId(type, content);
    const hex = oid.toString("hex");
    if (this.#known.has(hex)) return hex;
    this.#known.add(hex);
    this.#entry(OBJ[type], content.length, undefined, content, oid);
    return hex;
  }

  /** Adds `content` as a delta against the object written at `baseOffset` (same type). */
  addDelta(content: Buffer, type: ObjType, baseOffset: number, delta: Buffer): string {
    const oid = objectId(type, content);
    const hex = oid.toString("hex");
    if (this.#known.has(hex)) return hex;
    this.#known.add(hex);
    let ofs = this.#offset - baseOffset;
    const enc = [ofs & 0x7f];
    while ((ofs = Math.floor(ofs / 128)) > 0) {
      ofs -= 1;
      enc.unshift(0x80 | (ofs & 0x7f));
    }
    this.#entry(OBJ.ofsDelta, delta.length, Buffer.from(enc), delta, oid);
    return hex;
  }

  /** The offset the next object will be written at. */
  get offset(): number {
    return this.#offset;
  }

  /** Finishes the pack (count, checksum) and writes the .idx; returns the pack's size. */
  finish(): number {
    closeSync(this.#fd);
    // Patch the object count, then checksum the whole file (streaming read).
    const fd = openSync(this.#tmp, "r+");
    const count = Buffer.alloc(4);
    count.writeUInt32BE(this.#oids.length, 0);
    writeSync(fd, count, 0, 4, 8);
    closeSync(fd);
    const hash = createHash("sha1");
    const rfd = openSync(this.#tmp, "r");
    const chunk = Buffer.alloc(1 << 22);
    let read = 0;
    let pos = 0;
    while ((read = readSync(rfd, chunk, 0, chunk.length, pos)) > 0) {
      hash.update(chunk.subarray(0, read));
      pos += read;
    }
    closeSync(rfd);
    const checksum = hash.digest();
    const afd = openSync(this.#tmp, "a");
    writeSync(afd, checksum);
    closeSync(afd);

    const order = this.#oids
      .map((_, i) => i)
      .sort((a, b) => Buffer.compare(this.#oids[a]!, this.#oids[b]!));
    const n = order.length;
    const fanout = Buffer.alloc(256 * 4);
    const counts = new Array<number>(256).fill(0);
    for (const i of order) counts[this.#oids[i]![0]!]!++;
    let acc = 0;
    for (let b = 0; b < 256; b++) {
      acc += counts[b]!;
      fanout.writeUInt32BE(acc, b * 4);
    }
    const names = Buffer.concat(order.map((i) => this.#oids[i]!));
    const crcs = Buffer.alloc(n * 4);
    const offs = Buffer.alloc(n * 4);
    const large: Buffer[] = [];
    order.forEach((i, k) => {
      crcs.writeUInt32BE(this.#crcs[i]! >>> 0, k * 4);
      const o = this.#offsets[i]!;
      if (o < 0x80000000) offs.writeUInt32BE(o, k * 4);
      else {
        offs.writeUInt32BE((0x80000000 | large.length) >>> 0, k * 4);
        const b = Buffer.alloc(8);
        b.writeBigUInt64BE(BigInt(o));
        large.push(b);
      }
    });
    const head = Buffer.from([0xff, 0x74, 0x4f, 0x63, 0, 0, 0, 2]);
    const body = Buffer.concat([head, fanout, names, crcs, offs, ...large, checksum]);
    const idx = Buffer.concat([body, createHash("sha1").update(body).digest()]);
    const name = `pack-${checksum.toString("hex")}`;
    writeFileSync(join(this.packDir, `${name}.idx`), idx);
    renameSync(this.#tmp, join(this.packDir, `${name}.pack`));
    return this.#offset + 20;
  }
}

/** git's delta: copy base[0, at), insert `ins`, copy base[at, end). */
function appendDelta(baseSize: number, at: number, ins: Buffer): Buffer {
  const out: number[] = [];
  const varint = (n: number) => {
    do {
      let b = n & 0x7f;
      n = Math.floor(n / 128);
      if (n > 0) b |= 0x80;
      out.push(b);
    } while (n > 0);
  };
  varint(baseSize);
  varint(baseSize + ins.length);
  const copy = (from: number, len: number) => {
    while (len > 0) {
      const size = Math.min(len, 0xffffff);
      let op = 0x80;
      const args: number[] = [];
      for (let k = 0; k < 4; k++) {
        const b = Math.floor(from / 2 ** (8 * k)) & 0xff;
        if (b !== 0) {
          op |= 1 << k;
          args.push(b);
        }
      }
      for (let k = 0; k < 3; k++) {
        const b = (size >> (8 * k)) & 0xff;
        if (b !== 0) {
          op |= 1 << (4 + k);
          args.push(b);
        }
      }
      out.push(op, ...args);
      from += size;
      len -= size;
    }
  };
  copy(0, at);
  for (let k = 0; k < ins.length; k += 127) {
    const piece = ins.subarray(k, Math.min(ins.length, k + 127));
    out.push(piece.length, ...piece);
  }
  copy(at, baseSize - at);
  return Buffer.from(out);
}

/**
 * A directory whose entries only ever grow at the end (ULIDs sort by time): its tree object
 * and the pack offset of its last version, so the next version is a delta that appends.
 */
class GrowingTree {
  #buf = Buffer.alloc(1 << 16);
  #len = 0;
  #lastName = "";
  #baseOffset = -1;
  #baseLen = 0;
  #depth = 0;
  #pending: Buffer[] = [];
  oid = "";

  add(name: string, oid: string): void {
    if (name <= this.#lastName) throw new Error(`tree entries out of order: ${name}`);
    this.#lastName = name;
    const entry = Buffer.concat([
      Buffer.from(`100644 ${name}\0`, "latin1"),
      Buffer.from(oid, "hex"),
    ]);
    if (this.#len + entry.length > this.#buf.length) {
      const bigger = Buffer.alloc(Math.max(this.#buf.length * 2, this.#len + entry.length));
      this.#buf.copy(bigger, 0, 0, this.#len);
      this.#buf = bigger;
    }
    entry.copy(this.#buf, this.#len);
    this.#len += entry.length;
    this.#pending.push(entry);
  }

  /** Writes the current version (if it changed) and returns its id. */
  write(pack: PackWriter): string {
    if (this.#pending.length === 0 && this.oid !== "") return this.oid;
    const content = this.#buf.subarray(0, this.#len);
    const at = pack.offset;
    if (this.#baseOffset < 0 || this.#depth >= TREE_DELTA_DEPTH) {
      this.oid = pack.add("tree", content);
      this.#depth = 0;
    } else {
      const ins = Buffer.concat(this.#pending);
      this.oid = pack.addDelta(
        content,
        "tree",
        this.#baseOffset,
        appendDelta(this.#baseLen, this.#baseLen, ins),
      );
      this.#depth++;
    }
    this.#baseOffset = at;
    this.#baseLen = this.#len;
    this.#pending = [];
    return this.oid;
  }
}

interface TreeEntry {
  readonly mode: string;
  readonly name: string;
  readonly oid: string;
}

function treeOf(entries: readonly TreeEntry[]): Buffer {
  const key = (e: TreeEntry) => (e.mode === "40000" ? `${e.name}/` : e.name);
  const sorted = [...entries].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return Buffer.concat(
    sorted.flatMap((e) => [
      Buffer.from(`${e.mode} ${e.name}\0`, "latin1"),
      Buffer.from(e.oid, "hex"),
    ]),
  );
}

function parseTreeEntries(content: Buffer): TreeEntry[] {
  const out: TreeEntry[] = [];
  let at = 0;
  while (at < content.length) {
    const sp = content.indexOf(0x20, at);
    const nul = content.indexOf(0, sp);
    out.push({
      mode: content.toString("latin1", at, sp),
      name: content.toString("latin1", sp + 1, nul),
      oid: content.toString("hex", nul + 1, nul + 21),
    });
    at = nul + 21;
  }
  return out;
}

const when = (ms: number) => `${Math.floor(ms / 1000)} +0000`;
const ident = (who: { name: string; email: string }, ms: number) =>
  `${who.name} <${who.email}> ${when(ms)}`;

/** Where generated histories are cached. */
export function historyCacheDir(): string {
  return join(process.env.BENCH_CACHE ?? join(homedir(), ".cache", "interlock-bench"), "histories");
}

/**
 * A history of `count` executed requests at `dir` (its Interlock home at historyHome(dir)):
 * copied from the cache when one of this generator version and size is there, else generated
 * (and cached, unless `cache` is false).
 */
export async function generateHistory(
  dir: string,
  count: number,
  opts: { cache?: boolean } = {},
): Promise<GeneratedHistory> {
  const useCache = opts.cache ?? process.env.BENCH_HISTORY_CACHE !== "0";
  const key = join(historyCacheDir(), `v${GENERATOR_VERSION}-${count}`);
  if (useCache && existsSync(join(key, "done.json"))) {
    const meta = JSON.parse(readFileSync(join(key, "done.json"), "utf8")) as GeneratedHistory;
    mkdirSync(dirname(dir), { recursive: true });
    cpSync(join(key, "repo"), dir, { recursive: true });
    cpSync(join(key, "home"), historyHome(dir), { recursive: true });
    return { ...meta, dir, home: historyHome(dir), seconds: 0, source: "cache" };
  }
  const made = await generateFresh(dir, count);
  if (useCache) {
    rmSync(key, { recursive: true, force: true });
    mkdirSync(key, { recursive: true });
    cpSync(dir, join(key, "repo"), { recursive: true });
    cpSync(historyHome(dir), join(key, "home"), { recursive: true });
    writeFileSync(join(key, "done.json"), JSON.stringify(made));
  }
  return made;
}

/** Creates `dir` with `interlock init` and a history of `count` executed requests. */
export async function generateFresh(dir: string, count: number): Promise<GeneratedHistory> {
  const started = performance.now();
  const home = historyHome(dir);
  const init = await initRepository(dir, new Date(T0), { home });
  const config = loadConfig(dir);
  const tpl = await templates(dir, home, config);
  const keyOf = new Map<string, SshSigningKey>();
  const keyFor = (principal: string, expected: string | undefined) => {
    let key = keyOf.get(principal);
    if (key === undefined) {
      const file = join(init.home, KEYS_SUBDIR, principal);
      key = parseSshPrivateKey(readFileSync(file, "utf8"), file);
      if (key.publicKey !== expected)
        throw new Error(`${principal}'s key is not the configured one`);
      keyOf.set(principal, key);
    }
    return key;
  };
  for (const t of tpl) {
    keyFor(t.request.requester.id, config.agents?.[t.request.requester.id]?.signing_key);
    for (const who of t.approvers) keyFor(who, config.people[who]?.signing_key);
  }
  const directory = directoryOf(config);
  const codeowners = parseCodeowners(readFileSync(join(dir, "CODEOWNERS"), "utf8"));
  const teams = ownerMembers(config);
  const requestId = monotonicFactory();
  const reviewId = monotonicFactory();

  const gitDir = join(dir, ".git");
  const rootTree = execFileSync("git", ["cat-file", "tree", `${init.commit}^{tree}`], {
    cwd: dir,
    maxBuffer: 1 << 24,
  });
  const fixedRoot = parseTreeEntries(rootTree).filter(
    (e) => e.name !== "requests" && e.name !== "results",
  );
  const pack = new PackWriter(join(gitDir, "objects", "pack"));
  const actionDirs = new Map<string, GrowingTree>();
  const results = new GrowingTree();
  let resultsOid: string | undefined;
  const writeRoot = () => {
    const requestEntries = [...actionDirs.entries()].map(([name, t]) => ({
      mode: "40000",
      name,
      oid: t.write(pack),
    }));
    const entries: TreeEntry[] = [...fixedRoot];
    if (requestEntries.length > 0) {
      entries.push({
        mode: "40000",
        name: "requests",
        oid: pack.add("tree", treeOf(requestEntries)),
      });
    }
    if (resultsOid) entries.push({ mode: "40000", name: "results", oid: resultsOid });
    return pack.add("tree", treeOf(entries));
  };

  const refs: { name: string; oid: string; peeled?: string }[] = [];
  let tags = 0;
  let commits = 1;
  let mainTip = init.commit;
  const unexecuted: {
    id: string;
    path: string;
    action: string;
    t: Template;
    merge: string;
    mergedAt: number;
    approvers: string[];
  }[] = [];

  const commitResults = (at: number) => {
    for (const u of unexecuted) {
      const result = {
        interlock: 1,
        id: u.id,
        request: u.path,
        merge_commit: u.merge,
        approvers: u.approvers,
        executor: { key: u.t.executorKey, type: "noop" },
        outcome: "succeeded",
        started_at: new Date(u.mergedAt + 30_000).toISOString(),
        finished_at: new Date(u.mergedAt + 30_001).toISOString(),
        duration_ms: 1,
        output: `demo executor: would run ${u.action}`,
      };
      const blob = pack.add(
        "blob",
        Buffer.from(
          "# Interlock execution result (masked).\n" + stringify(result, { lineWidth: 0 }),
        ),
      );
      results.add(`${u.id}.yaml`, blob);
    }
    resultsOid = results.write(pack);
    const tree = writeRoot();
    const ids = unexecuted.map((u) => u.id);
    const text =
      `tree ${tree}\nparent ${mainTip}\n` +
      `author ${ident(INTERLOCK_IDENTITY, at)}\ncommitter ${ident(INTERLOCK_IDENTITY, at)}\n\n` +
      `Results of ${ids.length} requests: succeeded\n\n` +
      ids.map((id) => `Interlock-Result: ${id}\n`).join("");
    mainTip = pack.add("commit", Buffer.from(text, "utf8"));
    commits++;
    unexecuted.length = 0;
  };

  for (let i = 0; i < count; i++) {
    const t = tpl[i % tpl.length]!;
    const ev = t.evaluation;
    const filedAt = T0 + (i + 1) * SPACING_MS;
    const id = requestId(filedAt);
    const action = t.request.action;
    const path = `requests/${action}/${id}.yaml`;
    const record = requestRecord(id, new Date(filedAt), ev, t.sealed);
    const requester = requesterIdentity(t.request.requester.id);
    const title = `${commitText(action)} on ${commitText(String(ev.request.resource))} [${ev.decision.risk}]`;

    // request: the proposal commit, signed by the filing agent (as openProposal does).
    const blob = pack.add("blob", Buffer.from(renderRequestFile(record), "utf8"));
    let dirTree = actionDirs.get(action);
    if (dirTree === undefined) actionDirs.set(action, (dirTree = new GrowingTree()));
    dirTree.add(`${id}.yaml`, blob);
    const tree = writeRoot();
    const message = `${title}\n\n${renderCardMarkdown(ev, { requestedAt: new Date(filedAt) })}`;
    const unsigned =
      `tree ${tree}\nparent ${mainTip}\n` +
      `author ${ident(requester, filedAt)}\ncommitter ${ident(INTERLOCK_IDENTITY, filedAt)}\n\n` +
      (message.endsWith("\n") ? message : `${message}\n`);
    const signed = signCommitObject(unsigned, keyOf.get(t.request.requester.id)!);
    const head = pack.add("commit", Buffer.from(signed, "utf8"));
    commits++;
    refs.push({ name: `refs/heads/${BRANCH_PREFIX}${id}`, oid: head });
    refs.push({ name: `${ORIGINAL_REF_PREFIX}${id}`, oid: head });

    // approve ×2: signed tags on the head; the second names the first (seen:).
    const seen: string[] = [];
    const reviews = t.approvers.map((who, k) => {
      const at = filedAt + (k + 1) * 60_000;
      const person = config.people[who]!;
      const name = `${REVIEW_TAG_PREFIX}${id}/${who}-${reviewId(at)}`;
      const payload = reviewTagPayload({
        name,
        target: head,
        message: reviewMessage(id, "approved", head, undefined, seen),
        tagger: { name: person.name, email: person.email },
        date: new Date(at),
      });
      const tag = pack.add(
        "tag",
        Buffer.from(payload + keyOf.get(who)!.sign(payload, "git"), "utf8"),
      );
      seen.push(tag);
      tags++;
      refs.push({ name: `refs/tags/${name}`, oid: tag, peeled: head });
      return { who, at };
    });

    // merge: the real gate verdict on this snapshot, and the real merge message.
    const mergedAt = filedAt + 3 * 60_000;
    const verdict = evaluateGate({
      now: new Date(mergedAt),
      request: {
        id,
        path,
        requester: { ...t.request.requester, on_behalf_of: "alice" },
        authentication: {
          verified: true,
          signer: t.request.requester.id,
          detail: `filed and signed by ${t.request.requester.id}`,
        },
        decision: ev.decision,
        expiresAt: new Date(record.expires_at),
        recordedDigest: record.digest,
        actualDigest: record.digest,
      },
      proposal: {
        author: t.request.requester.id,
        headCommit: head,
        changedFiles: [{ path, status: "added" }],
        committers: [t.request.requester.id],
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
      identities: directory,
    });
    if (!verdict.satisfied) throw new Error(`generated request ${id}: ${verdict.summary}`);
    const mergeText =
      mergeMessage({
        verdict,
        collected: { record },
        context: { headCommit: head },
      } as unknown as GateResult) + "\n";
    const merge = pack.add(
      "commit",
      Buffer.from(
        `tree ${tree}\nparent ${mainTip}\nparent ${head}\n` +
          `author ${ident(INTERLOCK_IDENTITY, mergedAt)}\ncommitter ${ident(INTERLOCK_IDENTITY, mergedAt)}\n\n` +
          mergeText,
        "utf8",
      ),
    );
    commits++;
    mainTip = merge;
    refs.push({ name: `${CLAIM_REF_PREFIX}${id}`, oid: merge });
    const approvers = verdict.approvals.filter((a) => a.counted).map((a) => a.who);
    unexecuted.push({ id, path, action, t, merge, mergedAt, approvers });
    if (unexecuted.length >= RESULT_BATCH || i === count - 1) commitResults(mergedAt + 60_000);
  }
  const packBytes = pack.finish();
  refs.push({ name: "refs/heads/main", oid: mainTip });
  refs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  rmSync(join(gitDir, "refs", "heads", "main"), { force: true });
  writeFileSync(
    join(gitDir, "packed-refs"),
    "# pack-refs with: peeled fully-peeled sorted \n" +
      refs.map((r) => `${r.oid} ${r.name}\n${r.peeled ? `^${r.peeled}\n` : ""}`).join(""),
  );
  // The working tree and index stay at the initial commit: nothing here reads them.
  // As `git gc` leaves a repository (gc.writeCommitGraph): walks of the whole history (the
  // trust root lookup) read the commit graph instead of 200,000 commit objects.
  execFileSync("git", ["commit-graph", "write", "--reachable"], { cwd: dir, stdio: "ignore" });
  const refCount =
    execFileSync("git", ["for-each-ref", "--format=x"], {
      cwd: dir,
      encoding: "utf8",
      maxBuffer: 64 << 20,
    }).length / 2;
  if (refCount !== refs.length) {
    throw new Error(`expected ${refs.length} refs, git lists ${refCount}`);
  }
  return {
    dir,
    requests: count,
    approvalTags: tags,
    commits,
    seconds: (performance.now() - started) / 1000,
    source: "generated",
    fastImportMaxRssKiB: process.resourceUsage().maxRSS,
    packBytes,
    root: init.commit,
    home,
  };
}

/**
 * Checks a few generated objects with git itself: `git verify-tag` and `git verify-commit`
 * (gpg.format ssh, the people's and agents' public keys as allowed signers).
 */
export function verifyTagsWithGit(dir: string, config: InterlockConfig, sample = 4): string[] {
  const allowed = join(dir, ".git", "bench-allowed-signers");
  const principals = [
    ...Object.values(config.people).map((p) => ({ email: p.email, key: p.signing_key })),
    ...Object.entries(config.agents ?? {}).map(([id, a]) => ({
      email: requesterIdentity(id).email,
      key: a.signing_key,
    })),
  ];
  writeFileSync(
    allowed,
    principals
      .filter((p) => p.key)
      .map((p) => `${p.email} namespaces="git" ${p.key}`)
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
  const checked = picks.map((tag) => {
    const r = spawnSyncText(
      "git",
      ["-c", "gpg.format=ssh", "-c", `gpg.ssh.allowedSignersFile=${allowed}`, "verify-tag", tag],
      dir,
    );
    if (r.code !== 0) throw new Error(`git verify-tag ${tag} failed: ${r.stderr}`);
    return `${tag}: ${r.stderr.trim().split("\n")[0]}`;
  });
  const originals = execFileSync(
    "git",
    ["for-each-ref", "--count=2", "--format=%(refname)", ORIGINAL_REF_PREFIX],
    { cwd: dir, encoding: "utf8" },
  )
    .split("\n")
    .filter(Boolean);
  for (const ref of originals) {
    const r = spawnSyncText(
      "git",
      ["-c", "gpg.format=ssh", "-c", `gpg.ssh.allowedSignersFile=${allowed}`, "verify-commit", ref],
      dir,
    );
    if (r.code !== 0) throw new Error(`git verify-commit ${ref} failed: ${r.stderr}`);
    checked.push(`${ref}: ${r.stderr.trim().split("\n")[0]}`);
  }
  return checked;
}

function spawnSyncText(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8" });
  return { code: r.status ?? 1, stderr: `${r.stderr}${r.error ? String(r.error) : ""}` };
}
