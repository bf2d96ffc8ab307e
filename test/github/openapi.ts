import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Ajv, type ValidateFunction } from "ajv";
import formatsModule from "ajv-formats";

/**
 * GitHub's own OpenAPI description (@octokit/openapi, api.github.com) as a response checker for
 * the simulator: every body the simulator sends is validated against the schema of the
 * operation and status it answers, so the simulator cannot drift from GitHub's real shapes.
 *
 * The description is OpenAPI 3.0 (`nullable: true`); it is converted to JSON Schema once, and
 * each operation's schema is compiled by Ajv the first time it is needed.
 */

const SPEC_ID = "https://interlock.test/api.github.com.json";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface OpenApiSpec {
  paths: Record<string, Record<string, { responses?: Record<string, Json> }>>;
  components: { schemas: Record<string, Json>; responses: Record<string, Json> };
}

/** Where the description lives in the installed package. */
export function openApiPath(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve("@octokit/openapi/package.json");
  return pkg.replace(/package\.json$/, "generated/api.github.com.json");
}

/** A response that does not match GitHub's description. */
export class SchemaViolation extends Error {
  readonly operation: string;
  readonly errors: readonly string[];
  constructor(operation: string, errors: readonly string[]) {
    super(
      `${operation}: the response does not match GitHub's OpenAPI description:\n  ${errors.join("\n  ")}`,
    );
    this.name = "SchemaViolation";
    this.operation = operation;
    this.errors = errors;
  }
}

export class OpenApiValidator {
  readonly #spec: OpenApiSpec;
  readonly #ajv: Ajv;
  readonly #compiled = new Map<string, ValidateFunction | null>();

  private constructor(spec: OpenApiSpec) {
    this.#spec = spec;
    this.#ajv = new Ajv({
      strict: false,
      allErrors: true,
      validateSchema: false,
      logger: false,
      inlineRefs: false,
    });
    formatsModule.default(this.#ajv);
    this.#ajv.addSchema(
      {
        $id: SPEC_ID,
        components: {
          schemas: toJsonSchema(spec.components.schemas),
          responses: toJsonSchema(spec.components.responses),
        },
      },
      SPEC_ID,
    );
  }

  /** Loads the description (about 13 MB of JSON; a process loads it once). */
  static load(): OpenApiValidator {
    loaded ??= new OpenApiValidator(JSON.parse(readFileSync(openApiPath(), "utf8")) as OpenApiSpec);
    return loaded;
  }

  /** Whether the description has this operation (path template as GitHub writes it). */
  has(method: string, template: string): boolean {
    return this.#spec.paths[template]?.[method.toLowerCase()] !== undefined;
  }

  /**
   * Errors of `body` as the response `status` of `METHOD template` (empty: it matches). A
   * status the operation does not declare is checked against GitHub's generic error shape
   * (basic-error) when it is an error, and is itself an error otherwise.
   */
  check(method: string, template: string, status: number, body: unknown): string[] {
    const validate = this.#validator(method, template, status);
    if (validate === null) {
      return body === undefined || body === ""
        ? []
        : [`${status} has no body in the description, but one was sent`];
    }
    if (validate(body)) return [];
    return (validate.errors ?? []).map(
      (e) => `${e.instancePath || "(body)"} ${e.message ?? "is invalid"} (${e.schemaPath})`,
    );
  }

  /** Throws a SchemaViolation when `body` does not match. */
  assert(method: string, template: string, status: number, body: unknown): void {
    const errors = this.check(method, template, status, body);
    if (errors.length > 0) {
      throw new SchemaViolation(`${method.toUpperCase()} ${template} → ${status}`, errors);
    }
  }

  /** The validator of one operation and status; null when that response has no body. */
  #validator(method: string, template: string, status: number): ValidateFunction | null {
    const key = `${method.toLowerCase()} ${template} ${status}`;
    if (this.#compiled.has(key)) return this.#compiled.get(key)!;
    const op = this.#spec.paths[template]?.[method.toLowerCase()];
    if (op === undefined) {
      throw new SchemaViolation(`${method.toUpperCase()} ${template}`, [
        "no such operation in GitHub's OpenAPI description",
      ]);
    }
    let response = op.responses?.[String(status)] as JsonObject | undefined;
    if (response === undefined) {
      if (status < 400) {
        throw new SchemaViolation(`${method.toUpperCase()} ${template}`, [
          `status ${status} is not a response the operation declares (${Object.keys(op.responses ?? {}).join(", ")})`,
        ]);
      }
      response = {
        content: { "application/json": { schema: { $ref: "#/components/schemas/basic-error" } } },
      };
    }
    const ref = response.$ref;
    if (typeof ref === "string") {
      response = this.#spec.components.responses[ref.split("/").pop()!] as JsonObject;
    }
    const content = response.content as Record<string, { schema?: Json }> | undefined;
    const media =
      content === undefined
        ? undefined
        : "application/json" in content
          ? "application/json"
          : Object.keys(content).find((m) => m.includes("json"));
    const schema = media === undefined ? undefined : content![media]!.schema;
    const validate =
      schema === undefined ? null : this.#ajv.compile(rebase(toJsonSchema(schema)) as object);
    this.#compiled.set(key, validate);
    return validate;
  }
}

let loaded: OpenApiValidator | undefined;

/**
 * OpenAPI 3.0 → JSON Schema: `nullable: true` becomes a "null" type (or an anyOf with null
 * where there is no type, as next to $ref or allOf); examples are dropped.
 */
function toJsonSchema(node: Json, propertyMap = false): Json {
  if (Array.isArray(node)) return node.map((n) => toJsonSchema(n));
  if (node === null || typeof node !== "object") return node;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node)) {
    if (propertyMap) {
      out[k] = toJsonSchema(v); // a property's name, whatever it is, then its schema
      continue;
    }
    if (k === "example" || k === "examples") continue;
    out[k] =
      k === "enum" || k === "required" || k === "default"
        ? v
        : toJsonSchema(v, k === "properties" || k === "patternProperties");
  }
  if (propertyMap) return out;
  if (Array.isArray(out.oneOf) && out.oneOf.every(isErrorShape)) {
    // basic-error and repository-rule-violation-error require nothing and allow anything, so
    // every error body GitHub sends matches both and "exactly one" never holds (the 409 of
    // PUT contents): either one is what the description means.
    out.anyOf = out.oneOf;
    delete out.oneOf;
  }
  if (out.nullable === true) {
    delete out.nullable;
    if (typeof out.type === "string") {
      out.type = [out.type, "null"];
      if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
      return out;
    }
    return { anyOf: [out, { type: "null" }] };
  }
  if (out.nullable === false) delete out.nullable;
  return out;
}

/** A reference to one of GitHub's two error bodies. */
function isErrorShape(node: Json): boolean {
  const ref = (node as JsonObject | null)?.$ref;
  return (
    ref === "#/components/schemas/basic-error" ||
    ref === "#/components/schemas/repository-rule-violation-error"
  );
}

/** Points the local refs of an operation's schema at the description's components. */
function rebase(node: Json): Json {
  if (Array.isArray(node)) return node.map(rebase);
  if (node === null || typeof node !== "object") return node;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node)) {
    out[k] =
      k === "$ref" && typeof v === "string" && v.startsWith("#/") ? `${SPEC_ID}${v}` : rebase(v);
  }
  return out;
}
