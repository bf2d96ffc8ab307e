/**
 * Text normalised for matching names (resources, production markers): the host's one rule, so
 * that `ＰＲＯＤ`, `Prod`, `p\u200brod` and `db%2Dprod` all read as what a person reads.
 *
 *   1. percent-decoding (once; malformed escapes are left as they are),
 *   2. zero-width, bidi and other invisible format characters removed,
 *   3. NFKC (full-width and compatibility forms to their plain letters), case-folded, NFKC again,
 *      and Cyrillic or Greek look-alikes of Latin letters read as those letters,
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
  const latin = folded.replace(CONFUSABLE, (c) => LOOKALIKES[c] ?? c);
  return latin.replace(/[^\p{L}\p{N}]+/gu, "/").replace(/^\/|\/$/g, "");
}

/**
 * Cyrillic and Greek letters that look like Latin ones (after lower-casing), so `рrоd` with
 * Cyrillic р and о reads as prod. Not the whole Unicode confusables table: the letters that
 * spell the usual environment names.
 */
const LOOKALIKES: Readonly<Record<string, string>> = {
  а: "a",
  в: "b",
  с: "c",
  ԁ: "d",
  е: "e",
  ё: "e",
  һ: "h",
  і: "i",
  ї: "i",
  ј: "j",
  к: "k",
  ӏ: "l",
  м: "m",
  н: "h",
  о: "o",
  р: "p",
  ԛ: "q",
  г: "r",
  ѕ: "s",
  т: "t",
  у: "y",
  ѵ: "v",
  ԝ: "w",
  х: "x",
  α: "a",
  β: "b",
  ε: "e",
  η: "n",
  ι: "i",
  κ: "k",
  ν: "v",
  ο: "o",
  ρ: "p",
  τ: "t",
  υ: "u",
  χ: "x",
};
const CONFUSABLE = new RegExp(`[${Object.keys(LOOKALIKES).join("")}]`, "gu");
