import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { parseConfig } from "../src/config/config.ts";
import {
  directoryOf,
  excludedFromApproving,
  isBotPrincipal,
  policyIdentity,
  principalKey,
  samePrincipal,
} from "../src/identity/directory.ts";
import { bindRequester } from "../src/identity/requester.ts";

/** A fake but well-formed SSH public key, assembled at run time. */
const KEY = (n: number) =>
  `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${String(n).padStart(2, "0")}${"A".repeat(41)}`;

function config(over: Record<string, unknown> = {}) {
  return {
    version: 1,
    org: "acme",
    admins: ["sam"],
    people: {
      alice: {
        name: "Alice",
        email: "alice@acme.example",
        aliases: ["github:alice-gh", "alice@corp.example"],
      },
      sam: { name: "Sam", email: "sam@acme.example", signing_key: KEY(1) },
      ci: { name: "CI", email: "ci@acme.example", bot: true },
    },
    agents: {
      "agent:etl-bot": {
        signing_key: KEY(2),
        sponsor: "alice",
        aliases: ["serviceAccount:etl@proj.iam.gserviceaccount.com"],
      },
    },
    teams: { platform: ["alice"], security: ["sam"] },
    executors: { recipients: ["age1" + "q".repeat(58)], actions: {} },
    ...over,
  };
}

const parse = (c: object) => parseConfig(stringify(c));

describe("the identity directory", () => {
  const dir = directoryOf(parse(config()));

  it("maps every spelling of a person to one principal", () => {
    for (const s of [
      "alice",
      "@Alice",
      "user:ALICE",
      "Alice@ACME.example",
      "github:alice-gh",
      "alice-gh",
      "ALICE@corp.example",
    ]) {
      expect(principalKey(dir, s), s).toBe("alice");
    }
    expect(samePrincipal(dir, "agent:etl-bot", "etl@proj.iam.gserviceaccount.com")).toBe(true);
    expect(samePrincipal(dir, "ETL-BOT", "serviceAccount:etl@proj.iam.gserviceaccount.com")).toBe(
      true,
    );
    expect(samePrincipal(dir, "alice", "sam")).toBe(false);
    expect(samePrincipal(dir, "alice", "Alice+reviews@ACME.example")).toBe(true);
    expect(samePrincipal(dir, "alice", "alice+x@corp.example")).toBe(true);
    // Unknown spellings are only themselves, without kind prefix and "@".
    expect(principalKey(dir, "user:Bob")).toBe("bob");
  });

  it("excludes the requester and the sponsor bound in the config, whatever the request says", () => {
    const ex = excludedFromApproving(dir, { id: "etl-bot", kind: "agent" });
    expect(ex.map((e) => [e.key, e.role])).toEqual([
      ["agent:etl-bot", "requester"],
      ["alice", "sponsor"],
    ]);
    const named = excludedFromApproving(dir, {
      id: "agent:etl-bot",
      kind: "agent",
      on_behalf_of: "sam",
    });
    expect(named.map((e) => e.key).sort()).toEqual(["agent:etl-bot", "alice", "sam"]);
  });

  it("treats agents and bots as never approving", () => {
    expect(isBotPrincipal(dir, "agent:etl-bot")).toBe(true);
    expect(isBotPrincipal(dir, "ci@acme.example")).toBe(true);
    expect(isBotPrincipal(dir, "github-actions[bot]")).toBe(true);
    expect(isBotPrincipal(dir, "sam")).toBe(false);
  });

  it("gives the policy every name of the requester and the sponsor, and their groups", () => {
    const id = policyIdentity(dir, { id: "agent:etl-bot", kind: "agent" });
    expect(id.requester.aliases).toContain("etl@proj.iam.gserviceaccount.com");
    expect(id.sponsor?.aliases).toEqual(
      expect.arrayContaining(["alice", "alice@acme.example", "alice-gh", "github:alice-gh"]),
    );
    expect(id.groups).toEqual(["acme/platform", "platform"]);
  });
});

describe("binding a request to its signer", () => {
  const dir = directoryOf(parse(config()));
  it("fills the agent's sponsor, refuses another, and keeps people to themselves", () => {
    expect(bindRequester(dir, "agent:etl-bot", { id: "etl-bot", kind: "agent" })).toEqual({
      ok: true,
      requester: { id: "agent:etl-bot", kind: "agent", on_behalf_of: "alice" },
    });
    expect(
      bindRequester(dir, "agent:etl-bot", {
        id: "agent:etl-bot",
        kind: "agent",
        on_behalf_of: "github:alice-gh",
      }).ok,
    ).toBe(true);
    expect(
      bindRequester(dir, "agent:etl-bot", {
        id: "agent:etl-bot",
        kind: "agent",
        on_behalf_of: "sam",
      }),
    ).toMatchObject({ ok: false });
    expect(bindRequester(dir, "alice", { id: "agent:etl-bot", kind: "agent" })).toMatchObject({
      ok: false,
    });
    expect(bindRequester(dir, "alice", { id: "alice", kind: "agent" })).toMatchObject({
      ok: false,
      reason: "alice is a person and cannot file as an agent: set requester.kind to human",
    });
    expect(
      bindRequester(dir, "alice", { id: "alice", kind: "human", on_behalf_of: "sam" }),
    ).toMatchObject({ ok: false });
  });
});

describe("config: people, agents, aliases and admins are parsed strictly", () => {
  it.each([
    [
      "an alias shared by two principals",
      {
        people: {
          ...config().people,
          sam: { name: "Sam", email: "sam@acme.example", aliases: ["github:alice-gh"] },
        },
      },
      /is also alice's/,
    ],
    [
      "an agent whose alias is a person's e-mail",
      {
        agents: {
          "agent:x": { signing_key: KEY(3), sponsor: "alice", aliases: ["Sam@acme.example"] },
        },
      },
      /is also sam's/,
    ],
    [
      "a person named like an agent",
      { people: { ...config().people, "etl-bot": { name: "E", email: "e@acme.example" } } },
      /every identity must name exactly one principal/,
    ],
    [
      "as the sponsor, a second person entry with a plus-addressed e-mail of theirs",
      {
        people: {
          ...config().people,
          ally: { name: "Ally", email: "Alice+ops@acme.example" },
        },
      },
      /is also alice's/,
    ],
    [
      "as the sponsor, a second person entry under their display name",
      {
        people: {
          ...config().people,
          ally: { name: " alice ", email: "ally@acme.example" },
        },
      },
      /display name " alice " is also alice's/,
    ],
    [
      "an agent with an unknown sponsor",
      { agents: { "agent:x": { signing_key: KEY(3), sponsor: "nobody" } } },
      /names sponsor nobody, who is not in people/,
    ],
    [
      "an agent sponsored by a bot",
      { agents: { "agent:x": { signing_key: KEY(3), sponsor: "ci" } } },
      /who is a bot/,
    ],
    ["an agent without a key", { agents: { "agent:x": { sponsor: "alice" } } }, /signing_key/],
    [
      "an agent id without its kind",
      { agents: { x: { signing_key: KEY(3), sponsor: "alice" } } },
      /\/agents\/x: /,
    ],
    ["an unknown admin", { admins: ["mallory"] }, /admins lists mallory/],
    [
      "an unknown key in an agent",
      { agents: { "agent:x": { signing_key: KEY(3), sponsor: "alice", boss: "sam" } } },
      /boss/,
    ],
  ])("refuses %s", (_name, over, message) => {
    expect(() => parse(config(over))).toThrow(message);
  });
});
