import { describe, expect, it } from "vitest";
import { run } from "./cli-io.ts";

describe("interlock demo", () => {
  it("tells the whole story and ends with a verified audit", async () => {
    const r = await run(["demo"]);
    expect(r.code).toBe(0);
    // The card shows masked personal data, never the planted values.
    expect(r.stdout).toContain("[email:");
    expect(r.stdout.split("$ interlock request export.yaml")[1]).not.toContain(
      "jane.doe@example.com",
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
