/**
 * Cutting untrusted text to a channel's length limit before it is escaped, so that a cut never
 * falls inside an escape sequence or an entity: the longest prefix (in code points) whose
 * escaped form, with an ellipsis, fits.
 */
export function fitEscaped(text: string, escape: (s: string) => string, max: number): string {
  const whole = escape(text);
  if (whole.length <= max) return whole;
  const points = [...text];
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (escape(points.slice(0, mid).join("") + "…").length <= max) lo = mid;
    else hi = mid - 1;
  }
  const cut = escape(points.slice(0, lo).join("") + "…");
  return cut.length <= max ? cut : "";
}
