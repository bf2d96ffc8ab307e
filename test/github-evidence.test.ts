import { afterEach, describe, expect, it } from "vitest";
import { mergeRequest } from "../src/lifecycle/gate-check.ts";
import { requests, ruleOf, World } from "./github/world.ts";

/**
 * GitHub is judged by the same evidence rules as the local forge (src/evidence/judge.ts): the
 * configuration and the policy as committed at the merge's base, expiry as the filing time plus
 * the decision's TTL (never the stored expires_at). Each test attacks one of them through the
 * simulator, as a repository writer or with a request file the App's own filing path wrote.
 */

let world: World | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** A policy revision other than the shipped one, as a built bundle's manifest records it. */
const OTHER_REVISION = `sha256:${"ab".repeat(32)}`;

describe("github: the evidence at merge is judged by the one rule", () => {
  it("as a repository writer, a policy committed on main after filing: the request decided by the old policy no longer passes", async () => {
    const w = (world = await World.create());
    const filed = await w.file(requests.export());
    const { number } = w.pr(filed.id);
    await w.sim.as("dana").review(number, "APPROVE");
    expect((await w.gate(filed.id)).verdict.satisfied).toBe(true);

    // The policy on main changes (a rebuilt bundle): what was decided before is not its decision.
    await w.sim.push("sam", "main", {
      "policies/dist/manifest.json": JSON.stringify({ revision: OTHER_REVISION }),
    });
    const gate = await w.gate(filed.id);
    expect(gate.verdict.satisfied).toBe(false);
    expect(ruleOf(gate, "decision").detail).toMatch(
      /made by policy [0-9a-f]{12}, but the policy committed at [0-9a-f]{7} is abababababab/,
    );
    expect((await mergeRequest(w.forge, filed.id, w.clock.tick())).merged).toBe(false);
  });

  it("an admin's merge after the policy changed is refused by the executor, naming the policy", async () => {
    const w = (world = await World.create());
    const filed = await w.file(requests.export());
    const { number } = w.pr(filed.id);
    await w.sim.as("dana").review(number, "APPROVE");
    await w.sim.push("sam", "main", {
      "policies/dist/manifest.json": JSON.stringify({ revision: OTHER_REVISION }),
    });
    expect((await w.sim.as("root").merge(number)).status).toBe(200);

    const reports = await w.execute();
    expect(reports).toEqual([expect.objectContaining({ id: filed.id, status: "refused" })]);
    expect(reports[0]!.detail).toMatch(
      /the gate did not hold at the merge: .*made by policy .* but the policy committed at/,
    );
    expect(w.runs()).toEqual([]);
  });

  it("a manifest that names no revision is an incomplete policy, which no decision matches", async () => {
    const w = (world = await World.create());
    const filed = await w.file(requests.export());
    await w.sim.as("dana").review(w.pr(filed.id).number, "APPROVE");
    await w.sim.push("sam", "main", { "policies/dist/manifest.json": "{}" });
    const gate = await w.gate(filed.id);
    expect(gate.verdict.satisfied).toBe(false);
    expect(ruleOf(gate, "decision").detail).toMatch(/committed at [0-9a-f]{7} is incomplete/);
  });

  it("expiry is the filing time plus the TTL: a file whose expires_at says later is refused", async () => {
    const w = (world = await World.create());
    // The App's own filing path, with a request file whose stored expiry was moved a year on.
    const real = w.forge.openProposal.bind(w.forge);
    w.forge.openProposal = (p) => {
      const later = p.content.replace(/^expires_at: "?([^"\n]+)"?$/m, (_, at: string) => {
        const year = new Date(at);
        year.setUTCFullYear(year.getUTCFullYear() + 1);
        return `expires_at: "${year.toISOString()}"`;
      });
      expect(later).not.toBe(p.content);
      return real({ ...p, content: later });
    };
    const filed = await w.file(requests.export());
    await w.sim.as("dana").review(w.pr(filed.id).number, "APPROVE");
    const gate = await w.gate(filed.id);
    expect(gate.verdict.satisfied).toBe(false);
    expect(ruleOf(gate, "not-expired").detail).toMatch(
      /the request file says expires_at .* but filed at .* with a TTL of 86400 s it expires at/,
    );
    // And the expiry the gate judges by is the filing time plus the TTL.
    expect(gate.collected.snapshot.request.expiresAt.getTime()).toBe(
      new Date(gate.collected.record.requested_at).getTime() + 86_400_000,
    );
  });

  it("after the TTL the gate and the executor refuse, whatever was approved", async () => {
    const w = (world = await World.create());
    const filed = await w.file(requests.export());
    const { number } = w.pr(filed.id);
    await w.sim.as("dana").review(number, "APPROVE");
    w.clock.tick(86_400);
    const gate = await w.gate(filed.id);
    expect(gate.verdict.satisfied).toBe(false);
    expect(ruleOf(gate, "not-expired").ok).toBe(false);
    expect((await w.sim.as("root").merge(number)).status).toBe(200);
    const reports = await w.execute();
    expect(reports).toEqual([expect.objectContaining({ id: filed.id, status: "refused" })]);
    expect(w.runs()).toEqual([]);
  });

  it("as a repository writer deleting the configuration from main: nobody is known, so the gate refuses and says why", async () => {
    const w = (world = await World.create());
    const filed = await w.file(requests.export());
    await w.sim.as("alice").review(w.pr(filed.id).number, "APPROVE");
    await w.sim.push("pat", "main", { ".interlock/config.yaml": null });
    await expect(w.gate(filed.id)).rejects.toThrow(/there is no \.interlock\/config\.yaml at/);
    expect(await w.fileOnMain(".interlock/config.yaml")).toBeUndefined();
  });
});
