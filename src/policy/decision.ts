import { z } from "zod";
import { MASK_STRATEGIES } from "../masking/types.ts";

export const RISKS = ["low", "medium", "high", "critical"] as const;
export type Risk = (typeof RISKS)[number];

const groupSchema = z.strictObject({
  name: z.string().min(1).max(100),
  owners: z.array(z.string().min(1).max(200)).min(1).max(50),
  min: z.number().int().min(1).max(20),
});

/** A JSON Pointer into the request: "" (whole document) or "/a/b~1c". */
const pointerSchema = z.string().regex(/^(?:\/(?:[^~/]|~[01])*)*$/, "must be a JSON Pointer");

/**
 * What a policy must return (docs/policy.md). Strict: anything outside this shape is treated as a
 * policy failure and becomes a denial, never a partial decision.
 */
export const policyDecisionSchema = z
  .strictObject({
    allow: z.boolean(),
    deny: z.array(z.string().min(1).max(1000)).max(100),
    risk: z.enum(RISKS),
    classification: z.array(z.string().regex(/^[a-z0-9_.-]{1,50}$/)).max(50),
    auto_approve: z.boolean(),
    approvals: z.strictObject({ groups: z.array(groupSchema).max(20) }),
    mask: z
      .array(
        z.strictObject({
          path: pointerSchema,
          strategy: z.enum(MASK_STRATEGIES),
          /** Only findings of this detector type under path; absent: everything under path. */
          type: z
            .string()
            .regex(/^[a-z0-9_]{1,50}$/)
            .optional(),
        }),
      )
      .max(10_000),
    ttl_seconds: z
      .number()
      .int()
      .positive()
      .max(90 * 86400),
    why: z.array(z.string().max(1000)).max(100).optional(),
    /**
     * Fields that name a principal and stay readable like the requester's identity fields
     * (personal data found there is not masked; a secret still is): the grantees of an action
     * that grants privileges, so the reviewer sees who receives the role.
     */
    readable: z
      .array(pointerSchema.refine((p) => p !== "", "not the whole request"))
      .max(50)
      .optional(),
  })
  .superRefine((d, ctx) => {
    if (d.allow !== (d.deny.length === 0)) {
      ctx.addIssue({ code: "custom", message: "allow must be true exactly when deny is empty" });
    }
    if (d.allow && !d.auto_approve && d.approvals.groups.length === 0) {
      ctx.addIssue({
        code: "custom",
        message:
          "an allowed request that is not auto-approved must name at least one approval group",
      });
    }
    const names = new Set(d.approvals.groups.map((g) => g.name));
    if (names.size !== d.approvals.groups.length) {
      ctx.addIssue({ code: "custom", message: "approval group names must be distinct" });
    }
  });

export type PolicyDecision = z.infer<typeof policyDecisionSchema>;
export type ApprovalGroup = PolicyDecision["approvals"]["groups"][number];
export type MaskRule = PolicyDecision["mask"][number];

/** A decision as Interlock records it: the policy's answer plus where it came from. */
export interface Decision extends PolicyDecision {
  readonly why: string[];
  /** Digest of the compiled policy (Wasm and data) that produced it; "none" if none loaded. */
  readonly revision: string;
  /** Present when Interlock denied because the policy could not give a valid answer. */
  readonly failed_closed?: {
    readonly stage: "load" | "evaluate" | "validate";
    readonly hint: string;
  };
}

/** The fail-closed answer: a denial that says what went wrong and what to do. */
export function failClosed(
  stage: "load" | "evaluate" | "validate",
  reason: string,
  hint: string,
  revision: string,
): Decision {
  return {
    allow: false,
    deny: [`policy ${stage} failed: ${reason}`],
    risk: "critical",
    classification: [],
    auto_approve: false,
    approvals: { groups: [] },
    mask: [],
    ttl_seconds: 1,
    why: [`Interlock fails closed: the policy could not ${verb(stage)}, so the request is denied.`],
    revision,
    failed_closed: { stage, hint },
  };
}

function verb(stage: "load" | "evaluate" | "validate"): string {
  return stage === "load"
    ? "be loaded"
    : stage === "evaluate"
      ? "be evaluated"
      : "give a valid decision";
}
