import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { afterEach, describe, expect, it } from "vitest";
import { World } from "./github/world.ts";
import { documentedWorkflows, WorkflowRunner } from "./github/workflows.ts";

/**
 * The test workflow runner fails loudly on what it does not model, rather than guessing (a
 * guessed step would make the end-to-end test pass for the wrong reason).
 */

let world: World | undefined;
let runner: WorkflowRunner | undefined;

afterEach(async () => {
  runner?.close();
  await world?.close();
  world = runner = undefined;
});

async function pushWorkflow(job: Record<string, unknown>, on: unknown = "push"): Promise<void> {
  const w = (world = await World.create());
  runner = new WorkflowRunner(w, { appKey: "unused", environments: {} });
  await w.sim.push("mallory", "mallory/ci", {
    ".github/workflows/x.yml": stringify({ name: "x", on, jobs: { x: job } }),
  });
}

describe("the test workflow runner", () => {
  it("reads the four workflows from docs/github.md", () => {
    const docs = documentedWorkflows(fileURLToPath(new URL("../docs/github.md", import.meta.url)));
    expect([...docs.keys()]).toEqual([
      ".github/workflows/interlock-request.yml",
      ".github/workflows/interlock-gate.yml",
      ".github/workflows/interlock-review-relay.yml",
      ".github/workflows/interlock-execute.yml",
    ]);
    for (const text of docs.values()) expect(text).toMatch(/^name: interlock-/);
  });

  it("refuses an action, an expression, a condition or a trigger filter it does not model", async () => {
    await pushWorkflow({ "runs-on": "x", steps: [{ uses: "someone/else@v1" }] });
    await expect(runner!.settle()).rejects.toThrow(/does not model the action someone\/else@v1/);
    runner!.close();
    await world!.close();

    await pushWorkflow({
      "runs-on": "x",
      steps: [{ run: "true", env: { A: "${{ github.actor }}" } }],
    });
    await expect(runner!.settle()).rejects.toThrow(/does not model the expression github.actor/);
    runner!.close();
    await world!.close();

    await pushWorkflow({ "runs-on": "x", if: "github.actor == 'x'", steps: [] });
    await expect(runner!.settle()).rejects.toThrow(/does not model the condition/);
    runner!.close();
    await world!.close();

    await pushWorkflow({ "runs-on": "x", steps: [] }, { push: { paths: ["a/**"] } });
    await expect(runner!.settle()).rejects.toThrow(/does not model 'paths' in on.push/);
  });
});
