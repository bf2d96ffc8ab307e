import { describe, expect, it } from "vitest";
import { run } from "./cli-io.ts";

describe("interlock demo", () => {
  it("tells the whole story and ends with a verified audit", async () => {
    const r = await run(["demo"]);
    expect(r.code).toBe(0);
    // The card shows masked personal data, never the planted values.
    expect(r.stdout).toContain("[email:");
    const asked = r.stdout.split("agent> await requestApproval(")[1];
    expect(asked).toBeDefined();
    expect(asked).not.toContain("jane.doe@example.com");
    // The reviewers' Slack channel received the masked card, and saw it move, in place.
    const slack = asked!.split("(Slack) received, built from the masked card:")[1];
    expect(slack, "the Slack stand-in received the card").toBeDefined();
    expect(slack).toMatch(/^ {4}│ Interlock: db\.export$/m);
    expect(slack!.split("\n3. ")[0]).toContain("[email:");
    // The agent learns the outcome through the SDK; the sponsor's approval is not counted.
    expect(r.stdout).toContain("approved by dana, sam; executed: succeeded");
    // Approvals by alice, dana and sam, the merge and the result: five updates of one message.
    expect(r.stdout).toMatch(
      /updated in place 5 times:\n {4}│ Interlock: db\.export\n {4}│ :gear: \*executed\*/,
    );
    // The sponsor's approval is recorded and explained, and does not count.
    expect(r.stdout).toMatch(/does not count: alice is the agent's sponsor/);
    expect(r.stdout).toContain("Gate: SATISFIED");
    expect(r.stdout).toMatch(/db\.export: succeeded/);
    expect(r.stdout).toContain("Nothing to execute: every merged request has a result.");
    expect(r.stdout).toContain("self-grant");
    expect(r.stdout).toMatch(/Verified: 2 requests/);
  }, 60_000);
});
