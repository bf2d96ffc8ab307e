import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import {
  denialPath,
  idOfDenialPath,
  idOfProposalBranch,
  idOfRequestPath,
  idOfResultPath,
  idOfWithdrawalPath,
  isRequestId,
  proposalBranch,
  requestPath,
  resultPath,
  withdrawalPath,
} from "../src/forge/refs.ts";
import { newRequestId } from "../src/lifecycle/file-request.ts";
import { ROOT } from "./e2e-helpers.ts";

/** The repository layout (src/forge/refs.ts): one spelling of every path and of the id. */

const ID = newRequestId(Date.parse("2026-11-24T10:00:00.000Z"));

describe("the repository layout", () => {
  it("reads back the id of every path it makes", () => {
    expect(isRequestId(ID)).toBe(true);
    expect(requestPath("db.export", ID)).toBe(`requests/db.export/${ID}.yaml`);
    expect(idOfRequestPath(requestPath("db.export", ID))).toBe(ID);
    expect(idOfDenialPath(denialPath(ID))).toBe(ID);
    expect(idOfResultPath(resultPath(ID))).toBe(ID);
    expect(idOfWithdrawalPath(withdrawalPath(ID))).toBe(ID);
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
    expect(idOfWithdrawalPath(`withdrawals/${ID.toLowerCase()}.yaml`)).toBeUndefined();
    expect(idOfProposalBranch(`interlock/governance/${ID}`)).toBeUndefined();
    expect(idOfProposalBranch(`xinterlock/${ID}`)).toBeUndefined();
  });
});

/**
 * Files that still spell the layout themselves. Each should import it from src/forge/refs.ts;
 * the list only shrinks.
 */
const NOT_YET = ["src/forge/github/github-forge.ts"];

describe("the layout is spelled once", () => {
  it("no source outside src/forge/refs.ts writes the id pattern or builds a layout path", () => {
    const spellings = [
      /A-HJKMNP-TV-Z/,
      /\[0-9A-Z\]\{26\}/,
      /["`'](requests|results|denials|withdrawals)\/(\$\{|["`'])/,
      /\^(requests|results|denials|withdrawals)\\\//,
    ];
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const full = join(dir, e.name);
        if (e.isDirectory()) walk(full);
        else if (e.name.endsWith(".ts")) {
          const rel = relative(ROOT, full);
          if (rel === "src/forge/refs.ts" || NOT_YET.includes(rel)) continue;
          const text = readFileSync(full, "utf8");
          for (const re of spellings) if (re.test(text)) offenders.push(`${rel}: ${re}`);
        }
      }
    };
    walk(join(ROOT, "src"));
    expect(offenders).toEqual([]);
  });
});
