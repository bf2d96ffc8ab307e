/**
 * Failures (not results): each carries a stable code, the exit code the CLI uses for it, and a
 * message a person can act on. A denial or an unmet gate is a result, never an InterlockError.
 */
export const EXIT = {
  ok: 0,
  failure: 1,
  invalidInput: 2,
  denied: 3,
  gateNotSatisfied: 4,
} as const;

export type ErrorCode =
  | "request.invalid"
  | "request.too_large"
  | "usage"
  | "policy.missing"
  | "policy.build_failed"
  | "policy.test_failed"
  | "opa.not_found"
  | "config.invalid"
  | "seal.failed"
  | "git.failed"
  | "internal";

const EXIT_FOR: Record<ErrorCode, number> = {
  "request.invalid": EXIT.invalidInput,
  "request.too_large": EXIT.invalidInput,
  usage: EXIT.invalidInput,
  "policy.missing": EXIT.failure,
  "policy.build_failed": EXIT.failure,
  "policy.test_failed": EXIT.failure,
  "opa.not_found": EXIT.failure,
  "config.invalid": EXIT.invalidInput,
  "seal.failed": EXIT.failure,
  "git.failed": EXIT.failure,
  internal: EXIT.failure,
};

/** One problem in an input, located by field (JSON Pointer) and/or line. */
export interface Problem {
  readonly field?: string;
  readonly line?: number;
  readonly message: string;
}

export class InterlockError extends Error {
  readonly code: ErrorCode;
  readonly problems: readonly Problem[];
  /** What to do next, if there is something useful to say. */
  readonly hint: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { problems?: Problem[]; hint?: string } = {},
  ) {
    super(message);
    this.name = "InterlockError";
    this.code = code;
    this.problems = opts.problems ?? [];
    this.hint = opts.hint;
  }

  get exitCode(): number {
    return EXIT_FOR[this.code];
  }

  toJSON(): { code: ErrorCode; message: string; problems: readonly Problem[]; hint?: string } {
    return {
      code: this.code,
      message: this.message,
      problems: this.problems,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
    };
  }
}
