/**
 * Text normalised for matching names (resources, production markers): the host's one rule, so
 * that `ＰＲＯＤ`, `Prod`, `p\u200brod` and `db%2Dprod` all read as what a person reads.
 *
 *   1. percent-decoding (once; malformed escapes are left as they are),
 *   2. zero-width, bidi and other invisible format characters removed,
 *   3. NFKC (full-width and compatibility forms to their plain letters), case-folded, NFKC again,
 *   4. every run of characters that are neither letters nor digits becomes one "/",
 *      so any separator (- _ . : @ space, Unicode dashes, ...) splits words the same way.
 *
 * The result starts and ends without "/" and is safe to split on "/" (Rego has no NFKC).
 */
export function normalizeForMatching(text: string): string {
  const decoded = text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
  const visible = decoded.replace(/\p{Cf}|\u115f|\u1160|\u17b4|\u17b5|\u3164|\uffa0|\u034f/gu, "");
  const folded = visible.normalize("NFKC").toLowerCase().normalize("NFKC");
  return folded.replace(/[^\p{L}\p{N}]+/gu, "/").replace(/^\/|\/$/g, "");
}
