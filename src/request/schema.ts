import { z } from "zod";

/** Dotted action type: lower-case letters, digits, `_`, `.`, `-`; 1..100 characters. */
export const ACTION_PATTERN = /^[a-z0-9_.-]{1,100}$/;
/** A duration such as `90s`, `30m`, `24h`, `7d` or `1h30m`. */
export const TTL_PATTERN = /^(?:[0-9]{1,6}[smhd]){1,4}$/;

export const REQUESTER_KINDS = ["agent", "human", "pipeline"] as const;

const nonEmpty = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .refine((s) => s.trim().length > 0, "must not be empty");

export const requesterSchema = z.strictObject({
  id: nonEmpty(200),
  kind: z.enum(REQUESTER_KINDS),
  on_behalf_of: nonEmpty(200).optional(),
});

/** The request (docs/request.md). Strict: an unknown key is an error, so a typo never silently drops a field. */
export const requestSchema = z.strictObject({
  action: z
    .string()
    .regex(ACTION_PATTERN, "must be a dotted action type of [a-z0-9_.-], 1 to 100 characters"),
  resource: nonEmpty(2000),
  params: z.json().optional(),
  reason: nonEmpty(4000),
  requester: requesterSchema,
  ttl: z
    .string()
    .regex(TTL_PATTERN, "must be a duration such as 30m, 24h or 7d")
    // A zero duration would otherwise fall back to the policy's maximum: refuse it instead.
    .refine((t) => !TTL_PATTERN.test(t) || ttlSeconds(t) > 0, "must be longer than 0s")
    .optional(),
});

export type Request = Readonly<z.infer<typeof requestSchema>>;
export type Requester = Request["requester"];

/** `24h` → 86400. The pattern is checked by the schema first. */
export function ttlSeconds(ttl: string): number {
  const unit: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
  let total = 0;
  for (const m of ttl.matchAll(/([0-9]+)([smhd])/g)) total += Number(m[1]) * (unit[m[2]!] ?? 0);
  return total;
}
