import { detectInString } from "./detectors.ts";
import { childPointer } from "./pointer.ts";
import type { Finding } from "./types.ts";

/**
 * Runs every detector over every string in a JSON value: object keys and string values, at
 * any depth. A value is scanned with the key it sits under, so `{"password": "..."}` is
 * recognised by the key's name. Returns findings in document order, without matched text.
 */
export function scan(value: unknown, base = ""): Finding[] {
  const out: Finding[] = [];
  walk(value, base, undefined, out);
  return out;
}

function walk(value: unknown, pointer: string, keyName: string | undefined, out: Finding[]): void {
  if (typeof value === "string") {
    for (const s of detectInString(value, keyName)) out.push({ ...s, path: pointer, in: "value" });
    return;
  }
  if (value === null || typeof value !== "object") return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) walk(value[i], childPointer(pointer, i), keyName, out);
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    const child = childPointer(pointer, k);
    for (const s of detectInString(k)) out.push({ ...s, path: child, in: "key" });
    walk(v, child, k, out);
  }
}
