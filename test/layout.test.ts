import { describe, expect, it } from "vitest";
import {
  denialPath,
  idOfDenialPath,
  idOfProposalBranch,
  idOfRequestPath,
  idOfResultPath,
  isRequestId,
  proposalBranch,
  requestPath,
  resultPath,
} from "../src/forge/refs.ts";
import { newRequestId } from "../src/lifecycle/file-request.ts";

/** The repository layout (src/forge/refs.ts): one spelling of every path and of the id. */

const ID = newRequestId(Date.parse("2026-11-24T10:00:00.000Z"));

describe("the repository layout", () => {
  it("reads back the id of every path it makes", () => {
    expect(isRequestId(ID)).toBe(true);
    expect(requestPath("db.export", ID)).toBe(`requests/db.export/${ID}.yaml`);
    expect(idOfRequestPath(requestPath("db.export", ID))).toBe(ID);
    expect(idOfDenialPath(denialPath(ID))).toBe(ID);
    expect(idOfResultPath(resultPath(ID))).toBe(ID);
    expect(idOfProposalBranch(proposalBranch(ID))).toBe(ID);
  });

  it("accepts only ULIDs as ids: 26 characters of Crockford's base32, upper case", () => {
    expect(isRequestId(ID.toLowerCase())).toBe(false);
    expect(isRequestId(ID.slice(1))).toBe(false);
    expect(isRequestId(`${ID}0`)).toBe(false);
    for (const letter of ["I", "L", "O", "U"]) {
      expect(isRequestId(letter + ID.slice(1))).toBe(false);
    }
    expect(isRequestId(`${ID}\n`)).toBe(false);
  });

  it("as a repository writer, a file that only looks like a request, a denial or a result is none", () => {
    const lookalikes = [
      `x/requests/db.export/${ID}.yaml`,
      `requests/db.export/nested/${ID}.yaml`,
      `requests/${ID}.yaml`,
      `requests/db.export/${ID}.yaml.bak`,
      `requests/db.export/${ID.toLowerCase()}.yaml`,
      `requests//${ID}.yaml`,
    ];
    for (const path of lookalikes) expect(idOfRequestPath(path), path).toBeUndefined();
    expect(idOfResultPath(`results/${ID}.yml`)).toBeUndefined();
    expect(idOfResultPath(`results/sub/${ID}.yaml`)).toBeUndefined();
    expect(idOfResultPath(denialPath(ID))).toBeUndefined();
    expect(idOfDenialPath(resultPath(ID))).toBeUndefined();
    expect(idOfProposalBranch(`interlock/governance/${ID}`)).toBeUndefined();
    expect(idOfProposalBranch(`xinterlock/${ID}`)).toBeUndefined();
  });
});
