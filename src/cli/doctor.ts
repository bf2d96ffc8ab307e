import { EXIT, InterlockError } from "../errors.ts";
import { diagnoseRepository, renderDoctorReport } from "../forge/github/doctor.ts";
import { createOctokit, httpStatus } from "../forge/github/octokit.ts";
import type { CliIO } from "./io.ts";
import { parseCommandArgs } from "./main.ts";

export const DOCTOR_USAGE =
  "Usage: interlock doctor --github <owner/repo> [--json]\n\n" +
  "Reads how an approvals repository is protected on GitHub (branch protection and rulesets of\n" +
  "the default branch, Actions workflow permissions, CODEOWNERS errors, workflow triggers) and\n" +
  "prints each finding with its severity and how to fix it. Read-only: GET requests only.\n\n" +
  "Token: INTERLOCK_GITHUB_TOKEN, else GITHUB_TOKEN (a repository admin's; fine-grained:\n" +
  "Administration: read, Contents: read). API: GITHUB_API_URL (default https://api.github.com).\n\n" +
  "Exit codes: 0 nothing unsafe (warnings allowed), 4 a finding leaves a way around the gate\n" +
  "(or a setting could not be read), 2 usage, 1 the API could not be reached.\n";

const REPO = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/;

/** `interlock doctor --github owner/repo [--json]`. */
export async function doctorCommand(args: readonly string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { github: { type: "string" } });
  if (values.help) {
    io.stdout.write(DOCTOR_USAGE);
    return EXIT.ok;
  }
  if (positionals.length > 0 || values.github === undefined) {
    throw new InterlockError("usage", "usage: interlock doctor --github <owner/repo> [--json]", {
      hint: "doctor checks a GitHub approvals repository, e.g. interlock doctor --github acme/approvals",
    });
  }
  const m = REPO.exec(values.github);
  if (!m) {
    throw new InterlockError("usage", `--github ${values.github}: not owner/repo`, {
      hint: "Name the repository as owner/repo, e.g. --github acme/approvals.",
    });
  }
  const token = io.env.INTERLOCK_GITHUB_TOKEN || io.env.GITHUB_TOKEN;
  if (!token) {
    throw new InterlockError("usage", "doctor needs a GitHub token", {
      hint:
        "Set INTERLOCK_GITHUB_TOKEN (or GITHUB_TOKEN) to a token of a repository admin, e.g. " +
        'INTERLOCK_GITHUB_TOKEN="$(gh auth token)" interlock doctor --github owner/repo',
    });
  }
  const octokit = createOctokit({
    token,
    baseUrl: (io.env.GITHUB_API_URL || "https://api.github.com").replace(/\/+$/, ""),
    userAgent: "interlock-doctor",
    log: { warn: (msg) => io.stderr.write(`interlock: ${msg}\n`) },
  });
  let report;
  try {
    report = await diagnoseRepository(octokit, m[1]!, m[2]!);
  } catch (err) {
    const status = httpStatus(err);
    if (status === 404) {
      throw new InterlockError(
        "usage",
        `${values.github}: no such repository, or the token cannot see it`,
        {
          hint: "Check the name, and that the token has access to the repository.",
        },
      );
    }
    if (status === 401) {
      throw new InterlockError("usage", "GitHub refused the token (401 Bad credentials)", {
        hint: "Set INTERLOCK_GITHUB_TOKEN to a valid token.",
      });
    }
    throw err;
  }
  io.stdout.write(
    values.json ? JSON.stringify(report, null, 2) + "\n" : renderDoctorReport(report),
  );
  return report.safe ? EXIT.ok : EXIT.gateNotSatisfied;
}
