/**
 * Which request parameters are executable, and in which language: declared per action in the
 * policy data (catalogue/data.yaml, `actions.<key>.executable`), e.g.
 *
 *   db.query:
 *     executable:
 *       /params/query: sql
 *
 * The host reads these from the compiled policy's data bundle before deciding, because the
 * SQL classification it passes to the policy depends on them. The action is matched to a
 * catalogue key exactly as catalogue.rego matches it (lower-cased; equal to the key, or in its
 * family `key.`; the longest key wins); the policy checks the host's answer (input.analysis
 * .executable) against its own match and refuses auto-approval when they differ.
 */

export const EXECUTABLE_LANGUAGES = ["sql", "shell-argv", "url"] as const;
export type ExecutableLanguage = (typeof EXECUTABLE_LANGUAGES)[number];

export interface ExecutableParam {
  /** JSON Pointer into the request, e.g. /params/query. */
  readonly path: string;
  readonly language: ExecutableLanguage;
}

/** Catalogue key → its executable parameters. */
export type ExecutableCatalogue = ReadonlyMap<string, readonly ExecutableParam[]>;

const POINTER = /^(?:\/(?:[^~/]|~[01])*)+$/;

/**
 * Reads `executable` declarations from policy data (`{interlock: {catalogue: {actions}}}`).
 * Strict: a declaration that is not a map of JSON Pointers to known languages is an error, so a
 * typo cannot silently switch the check off.
 */
export function parseExecutableCatalogue(
  data: unknown,
): { ok: true; catalogue: ExecutableCatalogue } | { ok: false; error: string } {
  const actions = (data as { interlock?: { catalogue?: { actions?: unknown } } } | null)?.interlock
    ?.catalogue?.actions;
  const catalogue = new Map<string, ExecutableParam[]>();
  if (actions === undefined || actions === null) return { ok: true, catalogue };
  if (typeof actions !== "object" || Array.isArray(actions)) {
    return { ok: false, error: "catalogue `actions` is not a map" };
  }
  for (const [key, entry] of Object.entries(actions as Record<string, unknown>)) {
    const decl = (entry as { executable?: unknown } | null)?.executable;
    // Every key is kept, declared or not: the longest match must be the same one Rego finds.
    if (decl === undefined) {
      catalogue.set(key, []);
      continue;
    }
    if (decl === null || typeof decl !== "object" || Array.isArray(decl)) {
      return {
        ok: false,
        error: `actions.${key}.executable must map parameter paths to languages`,
      };
    }
    const params: ExecutableParam[] = [];
    for (const [path, language] of Object.entries(decl as Record<string, unknown>)) {
      if (!POINTER.test(path)) {
        return { ok: false, error: `actions.${key}.executable: ${path} is not a JSON Pointer` };
      }
      if (!(EXECUTABLE_LANGUAGES as readonly unknown[]).includes(language)) {
        return {
          ok: false,
          error: `actions.${key}.executable.${path}: the language must be one of ${EXECUTABLE_LANGUAGES.join(", ")}`,
        };
      }
      params.push({ path, language: language as ExecutableLanguage });
    }
    catalogue.set(key, params);
  }
  return { ok: true, catalogue };
}

/** The executable parameters of an action: those of the longest catalogue key it matches. */
export function executableParamsFor(
  catalogue: ExecutableCatalogue,
  action: unknown,
): readonly ExecutableParam[] {
  if (typeof action !== "string") return [];
  const name = action.toLowerCase();
  let best: string | undefined;
  for (const key of catalogue.keys()) {
    if (
      (name === key || name.startsWith(`${key}.`)) &&
      (best === undefined || key.length > best.length)
    ) {
      best = key;
    }
  }
  return best === undefined ? [] : (catalogue.get(best) ?? []);
}
