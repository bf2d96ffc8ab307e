import { EXIT, InterlockError } from "../errors.ts";
import { diagnoseRepository, renderDoctorReport } from "../forge/github/doctor.ts";
import { createOctokit, httpStatus } from "../forge/github/octokit.ts";
import type { CliIO } from "./io.ts";
import { booleanFlag, stringFlag, type CommandInput } from "./command.ts";

const REPO = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/;

/** `interlock doctor --github owner/repo [--json]`. */
export async function doctorCommand(input: CommandInput, io: CliIO): Promise<number> {
  const { positionals } = input;
  const values = { github: stringFlag(input, "github"), json: booleanFlag(input, "json") };
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
