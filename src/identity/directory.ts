import type { InterlockConfig } from "../config/config.ts";
import { principalSkeleton } from "../text/unicode.ts";

/**
 * Who is who: the one place that decides whether two spellings name the same principal, and who
 * may not approve a request. Every exclusion (the gate, the policy's self-grant rule, the
 * forges) resolves identities here, through all of a principal's names: its id, its e-mail in
 * any case, "@login", "user:login", an agent id with or without "agent:", and every configured
 * alias (logins on other systems, cloud identities).
 *
 * A directory is plain data, built once from the configuration, so the gate stays a pure
 * function of its snapshot.
 */

export type PrincipalKind = "person" | "agent";

export interface Principal {
  /** The configured id: "dana" for a person, "agent:etl-bot" for an agent. */
  readonly id: string;
  readonly kind: PrincipalKind;
  readonly name: string;
  /** Every configured spelling: id, e-mail, aliases (as written). */
  readonly spellings: readonly string[];
  /** An agent's sponsor (a person id), bound in the configuration. */
  readonly sponsor?: string;
  /** Bots never approve; agents are always bots for approving. */
  readonly bot: boolean;
  /** The SSH public key that signs this principal's requests and reviews, if any. */
  readonly signingKey?: string;
  /** Teams this principal belongs to (team names). */
  readonly teams: readonly string[];
}

export interface IdentityDirectory {
  /** The organisation, for group handles ("@acme/security"). */
  readonly org: string;
  readonly principals: ReadonlyMap<string, Principal>;
  /** Spelling key → principal id. */
  readonly index: ReadonlyMap<string, string>;
}

/** A directory that knows nobody: each spelling is only itself (normalised). */
export const EMPTY_DIRECTORY: IdentityDirectory = {
  org: "",
  principals: new Map(),
  index: new Map(),
};

/**
 * A spelling as it is compared: Unicode-normalised, trimmed, lower-case, without a leading "@",
 * and an e-mail address without a `+tag` in its local part ("@Dana", "dana", "DANA" are one
 * spelling; so are "alice@acme.example" and "Alice+ops@acme.example", one mailbox).
 */
export function spellingKey(spelling: string): string {
  return spelling
    .normalize("NFKC")
    .trim()
    .toLowerCase()
    .replace(/^@/, "")
    .replace(/^([^@\s+]+)\+[^@\s]*(@[^@\s]+)$/, "$1$2");
}

/** "user:alice", "agent:etl-bot", "serviceAccount:x@y" → "alice", "etl-bot", "x@y". */
function withoutKind(key: string): string {
  return key.replace(/^[a-z][a-z0-9_-]*:(?!\/\/)/, "").replace(/^@/, "");
}

/** Every key a configured spelling is found under: itself and without its kind prefix. */
function keysOf(spelling: string): string[] {
  const key = spellingKey(spelling);
  const bare = withoutKind(key);
  return bare === key || bare === "" ? [key] : [key, bare];
}

interface Entry {
  readonly id: string;
  readonly kind: PrincipalKind;
  readonly name: string;
  readonly spellings: string[];
  readonly sponsor?: string;
  readonly bot: boolean;
  readonly signingKey?: string;
}

function entriesOf(config: InterlockConfig): Entry[] {
  const people = Object.entries(config.people).map(([id, p]): Entry => ({
    id,
    kind: "person",
    name: p.name,
    spellings: [id, p.email, ...(p.aliases ?? [])],
    bot: p.bot,
    ...(p.signing_key ? { signingKey: p.signing_key } : {}),
  }));
  const agents = Object.entries(config.agents ?? {}).map(([id, a]): Entry => ({
    id,
    kind: "agent",
    name: a.name ?? id,
    spellings: [id, ...(a.aliases ?? [])],
    sponsor: a.sponsor,
    bot: true,
    signingKey: a.signing_key,
  }));
  return [...people, ...agents];
}

/**
 * The first spelling that two principals share, or the first display name two people share, as
 * a sentence; undefined when none do. Two person entries with one display name are one human
 * until the configuration says otherwise (a second entry must not let a sponsor review as
 * someone else).
 */
export function spellingClash(config: InterlockConfig): string | undefined {
  const named = new Map<string, string>();
  for (const [id, p] of Object.entries(config.people)) {
    const key = spellingKey(p.name).replace(/\s+/g, " ");
    const prior = named.get(key);
    if (prior !== undefined) {
      return `${id}'s display name ${JSON.stringify(p.name)} is also ${prior}'s: every identity must name exactly one principal (give each person their own name)`;
    }
    named.set(key, id);
  }
  const owner = new Map<string, { id: string; spelling: string }>();
  for (const e of entriesOf(config)) {
    for (const spelling of e.spellings) {
      for (const key of keysOf(spelling)) {
        const prior = owner.get(key);
        if (prior !== undefined && prior.id !== e.id) {
          return `${e.id}'s name ${JSON.stringify(spelling)} is also ${prior.id}'s (${JSON.stringify(prior.spelling)}): every identity must name exactly one principal`;
        }
        owner.set(key, { id: e.id, spelling });
      }
    }
  }
  return undefined;
}

const directories = new WeakMap<InterlockConfig, IdentityDirectory>();

/** The directory of a configuration, built once per parsed configuration. */
export function directoryOf(config: InterlockConfig): IdentityDirectory {
  let dir = directories.get(config);
  if (dir === undefined) {
    dir = buildDirectory(config);
    directories.set(config, dir);
  }
  return dir;
}

/** Builds the directory (assumes parseConfig accepted the configuration: no clashes). */
function buildDirectory(config: InterlockConfig): IdentityDirectory {
  const teamsOf = new Map<string, string[]>();
  for (const [team, members] of Object.entries(config.teams)) {
    for (const m of members) teamsOf.set(m, [...(teamsOf.get(m) ?? []), team]);
  }
  const principals = new Map<string, Principal>();
  const index = new Map<string, string>();
  for (const e of entriesOf(config)) {
    principals.set(e.id, { ...e, teams: teamsOf.get(e.id) ?? [] });
    for (const spelling of e.spellings) {
      for (const key of keysOf(spelling)) if (!index.has(key)) index.set(key, e.id);
    }
  }
  return { org: config.org.toLowerCase(), principals, index };
}

/** The configured principal a spelling names, if any. */
export function resolvePrincipal(dir: IdentityDirectory, spelling: string): Principal | undefined {
  const key = spellingKey(spelling);
  const id = dir.index.get(key) ?? dir.index.get(withoutKind(key));
  return id === undefined ? undefined : dir.principals.get(id);
}

/**
 * The one key for "the same principal": the configured id when the spelling is known, else the
 * spelling without kind prefix and "@" (so unknown "user:bob" and "bob" are still one).
 */
export function principalKey(dir: IdentityDirectory, spelling: string): string {
  return resolvePrincipal(dir, spelling)?.id ?? withoutKind(spellingKey(spelling));
}

/** Whether two spellings name the same principal. */
export function samePrincipal(dir: IdentityDirectory, a: string, b: string): boolean {
  return principalKey(dir, a) === principalKey(dir, b);
}

/** Every spelling of the principal behind `spelling`, normalised (at least the spelling itself). */
export function allSpellings(dir: IdentityDirectory, spelling: string): string[] {
  const p = resolvePrincipal(dir, spelling);
  const raw = p ? [p.id, ...p.spellings] : [spelling];
  const out = new Set<string>();
  for (const s of raw) for (const k of keysOf(s)) out.add(k);
  return [...out].sort();
}

/** Who asked: the request's requester fields (or the verified signer's). */
export interface RequesterRef {
  readonly id: string;
  readonly kind: string;
  readonly on_behalf_of?: string;
}

export type ExclusionRole = "requester" | "sponsor";

export interface Exclusion {
  /** principalKey of the excluded principal. */
  readonly key: string;
  readonly role: ExclusionRole;
  /** Where it comes from: "on_behalf_of", "bound to agent:etl-bot in the configuration". */
  readonly source: string;
}

/**
 * Who may not approve this request: the requester, the sponsor bound to it in the
 * configuration, the sponsor the request names (excluding more never grants anything), each
 * through all of their names. A person filing a request is its requester, whatever kind the
 * request claims. (Bots and agents never approve at all: see `isBotPrincipal`.)
 */
export function excludedFromApproving(
  dir: IdentityDirectory,
  requester: RequesterRef,
): Exclusion[] {
  const out: Exclusion[] = [];
  const add = (spelling: string, role: ExclusionRole, source: string) => {
    const key = principalKey(dir, spelling);
    if (key !== "" && !out.some((e) => e.key === key && e.role === role)) {
      out.push({ key, role, source });
    }
  };
  const who = resolvePrincipal(dir, requester.id);
  add(requester.id, "requester", requester.id);
  if (requester.on_behalf_of !== undefined) add(requester.on_behalf_of, "sponsor", "on_behalf_of");
  if (who?.sponsor !== undefined) {
    add(who.sponsor, "sponsor", `bound to ${who.id} in the configuration`);
  }
  return out;
}

/** Bots, agents and apps never approve. */
export function isBotPrincipal(dir: IdentityDirectory, spelling: string): boolean {
  const p = resolvePrincipal(dir, spelling);
  if (p !== undefined) return p.bot || p.kind === "agent";
  return spelling.trim().toLowerCase().endsWith("[bot]");
}

/**
 * What the policy sees of who is asking (PolicyInput.identity): every spelling of the
 * requester and of its sponsor, and the groups either belongs to, so a self-grant under an
 * alias, an e-mail, a cloud identity or through a group is recognised.
 */
export interface PolicyIdentity {
  readonly requester: { readonly id: string; readonly aliases: readonly string[] };
  readonly sponsor: { readonly id: string; readonly aliases: readonly string[] } | null;
  readonly groups: readonly string[];
}

export function policyIdentity(dir: IdentityDirectory, requester: RequesterRef): PolicyIdentity {
  const who = resolvePrincipal(dir, requester.id);
  const sponsorSpelling = who?.sponsor ?? requester.on_behalf_of;
  const sponsor =
    sponsorSpelling === undefined ? undefined : resolvePrincipal(dir, sponsorSpelling);
  const groups = new Set<string>();
  for (const p of [who, sponsor]) {
    for (const team of p?.teams ?? []) {
      groups.add(team);
      if (dir.org !== "") groups.add(`${dir.org}/${team}`);
    }
  }
  // Both sponsors, when the request names another than the configured one: exclude more.
  const sponsorAliases = new Set<string>();
  for (const s of [who?.sponsor, requester.on_behalf_of]) {
    if (s !== undefined) for (const a of allSpellings(dir, s)) sponsorAliases.add(a);
  }
  if (sponsor !== undefined) sponsorAliases.add(sponsor.name);
  return {
    requester: {
      id: who?.id ?? requester.id,
      aliases: withSkeletons([...allSpellings(dir, requester.id), ...(who ? [who.name] : [])]),
    },
    sponsor:
      sponsorSpelling === undefined
        ? null
        : { id: sponsor?.id ?? sponsorSpelling, aliases: withSkeletons([...sponsorAliases]) },
    groups: [...groups].sort(),
  };
}

/**
 * The names as configured and as a person reads them (principalSkeleton: look-alike letters,
 * marks, invisible characters, `+tag`), so the policy can compare them with the skeletons of
 * the grantees the host gives it (input.analysis.principals).
 */
function withSkeletons(names: readonly string[]): string[] {
  const out = new Set<string>();
  for (const n of names) {
    out.add(n);
    const s = principalSkeleton(n);
    if (s !== "") out.add(s);
  }
  return [...out].sort();
}
