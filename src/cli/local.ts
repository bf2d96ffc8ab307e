import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { loadConfig, type InterlockConfig } from "../config/config.ts";
import { InterlockError } from "../errors.ts";
import { LocalForge } from "../forge/local/local-forge.ts";
import { EXECUTOR_IDENTITY_FILE, interlockHome, KEYS_SUBDIR } from "../settings/home.ts";
import { parseSshPrivateKey } from "../forge/local/sshsig.ts";
import { directoryOf, resolvePrincipal } from "../identity/directory.ts";
import { bindRequester } from "../identity/requester.ts";
import { fileRequest, type FiledRequest } from "../lifecycle/file-request.ts";
import { DEFAULT_MAX_REQUEST_BYTES, tooLarge, validateRequestValue } from "../request/parse.ts";
import { loadRepoContext, type RepoContext } from "./context.ts";
import { findRepoDir, repoHomeOf } from "./repository.ts";

export interface LocalRepo {
  readonly repo: RepoContext;
  readonly config: InterlockConfig;
  readonly forge: LocalForge;
  /** This repository's directory in the user's Interlock home (keys, executor identity). */
  readonly home: string;
}

/** Opens a local approvals repository: its config, policies, masking key and forge. */
export async function openLocalRepo(
  repo: string | undefined,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<LocalRepo> {
  const repoDir = await findRepoDir(repo, cwd);
  if (!existsSync(join(repoDir, ".git"))) {
    throw new InterlockError("usage", `${repoDir} is not a Git repository`, {
      hint: "Create an approvals repository with 'interlock init <dir>', or pass --repo <dir>.",
    });
  }
  const home = await repoHomeOf(repoDir, env);
  if (home !== undefined) refuseInside(repoDir, home, "the Interlock home");
  if (home === undefined) {
    throw new InterlockError("usage", `${repoDir} has no commit yet`, {
      hint: "Create an approvals repository with 'interlock init <dir>'.",
    });
  }
  const ctx = await loadRepoContext(repoDir, cwd, home);
  const config = loadConfig(ctx.repoDir);
  return {
    repo: ctx,
    config,
    forge: new LocalForge(ctx.repoDir, config, { home: interlockHome(env) }),
    home,
  };
}

/** A principal's private signing key in the Interlock home (or the file given with --key). */
export function signingKeyFile(
  local: LocalRepo,
  principal: string,
  keyFlag: string | undefined,
  cwd: string,
): string {
  const file = keyFlag ? resolve(cwd, keyFlag) : join(local.home, KEYS_SUBDIR, principal);
  if (!existsSync(file)) {
    throw new InterlockError("usage", `no signing key for ${principal} at ${file}`, {
      hint: `Pass --key <private key file>, or put ${principal}'s key in your Interlock home ($INTERLOCK_HOME/repos/<initial commit>/${KEYS_SUBDIR}/${principal}).`,
    });
  }
  refuseInside(local.repo.repoDir, file, `${principal}'s private key`);
  return file;
}

/** The executor's age identities, from the Interlock home (never the repository). */
export function executorIdentities(local: LocalRepo): string[] {
  const configured = local.config.executors.identity_file;
  const file = configured
    ? resolve(local.home, configured)
    : join(local.home, EXECUTOR_IDENTITY_FILE);
  refuseInside(local.repo.repoDir, file, "the executor's identity");
  if (!existsSync(file)) {
    throw new InterlockError("config.invalid", `no executor identity at ${file}`, {
      hint: "Only an executor can run approved requests: put its age identity (AGE-SECRET-KEY-1…) in that file, in the executor's Interlock home ($INTERLOCK_HOME).",
    });
  }
  return readFileSync(file, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("AGE-SECRET-KEY-"));
}

/** Private keys never come from inside the repository, where every writer can read them. */
function refuseInside(repoDir: string, file: string, what: string): void {
  const rel = relative(resolve(repoDir), resolve(file));
  if (rel === "" || (!rel.startsWith("..") && !isAbsolute(rel))) {
    throw new InterlockError(
      "usage",
      `${what} must not live inside the approvals repository (${file})`,
      {
        hint: "Anyone who can file a request can read the repository: move the key to your Interlock home ($INTERLOCK_HOME).",
      },
    );
  }
}

/**
 * Files a request as `as` (an agent or a person, as configured), signed with their key: the
 * one way requests are filed on the local forge, for `interlock request`, the SDK and the MCP
 * server. `request` is a parsed request or any value (validated here); a missing `requester`
 * is the principal `as`. The requester is whoever signs; declared fields must name them.
 */
export async function fileAs(
  local: LocalRepo,
  request: unknown,
  o: { as?: string | undefined; keyFlag?: string | undefined; cwd: string; now: Date },
): Promise<FiledRequest> {
  const directory = directoryOf(local.config);
  const value =
    request !== null && typeof request === "object" && !Array.isArray(request)
      ? (request as Record<string, unknown>)
      : undefined;
  if (value !== undefined) {
    const bytes = Buffer.byteLength(JSON.stringify(value), "utf8");
    if (bytes > DEFAULT_MAX_REQUEST_BYTES) {
      throw tooLarge("request", `is ${bytes} bytes`, DEFAULT_MAX_REQUEST_BYTES);
    }
  }
  const filler =
    value !== undefined && value.requester === undefined && o.as !== undefined
      ? {
          requester: {
            id: o.as,
            kind: resolvePrincipal(directory, o.as)?.kind === "agent" ? "agent" : "human",
          },
        }
      : {};
  const parsed = validateRequestValue(value === undefined ? request : { ...value, ...filler });
  const signer = o.as ?? parsed.requester.id;
  const bound = bindRequester(directory, signer, parsed.requester);
  if (!bound.ok) {
    throw new InterlockError("request.invalid", `refused: ${bound.reason}`, {
      hint: "File as yourself (--as <your id>); an agent's sponsor is set in .interlock/config.yaml.",
    });
  }
  const keyFile = signingKeyFile(local, bound.requester.id, o.keyFlag, o.cwd);
  const signingKey = parseSshPrivateKey(readFileSync(keyFile, "utf8"), keyFile);
  return fileRequest(
    { ...parsed, requester: bound.requester },
    {
      forge: local.forge,
      decide: {
        engine: local.repo.engine,
        now: o.now,
        repo: local.repo.repoName,
        hmacKey: local.repo.hmacKey,
        identities: directory,
      },
      recipients: local.config.executors.recipients,
      signingKey,
    },
  );
}
