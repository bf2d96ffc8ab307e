/** JSON Pointer (RFC 6901) helpers. */

export function escapeSegment(segment: string): string {
  // Most segments hold neither character: two substring checks instead of two regex passes.
  if (!segment.includes("~") && !segment.includes("/")) return segment;
  return segment.replace(/~/g, "~0").replace(/\//g, "~1");
}

export function unescapeSegment(segment: string): string {
  if (!segment.includes("~")) return segment;
  return segment.replace(/~1/g, "/").replace(/~0/g, "~");
}

export function childPointer(parent: string, segment: string | number): string {
  return typeof segment === "number"
    ? `${parent}/${segment}`
    : `${parent}/${escapeSegment(segment)}`;
}

/** Is `pointer` equal to `prefix` or inside it? ("/a/b" is inside "/a", "/ab" is not.) */
export function isWithin(pointer: string, prefix: string): boolean {
  return prefix === "" || pointer === prefix || pointer.startsWith(`${prefix}/`);
}
