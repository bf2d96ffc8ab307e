import { normalizeForMatching } from "../text/unicode.ts";
import { plainStringContents, type SqlParser, type StringConstant } from "./parser.ts";

/** Whether the host could prove a statement read-only, and if not, why. */
export interface SqlClassification {
  readonly read_only: boolean;
  /** Empty when read-only; otherwise one sentence per thing outside the allow-list. */
  readonly reasons: readonly string[];
  /** How many statements the text holds (0 when it does not parse). */
  readonly statements: number;
  /**
   * The schema and database names that qualify a relation (`prod` in prod.customers,
   * `live_db` in live_db.public.accounts), normalised for matching (normalizeForMatching), so
   * the policy can tell that a query on a staging resource reaches production.
   */
  readonly qualifiers: readonly string[];
}

/**
 * Statement kinds that only read: a query (SELECT, VALUES, TABLE, set operations), SHOW, and
 * EXPLAIN without ANALYZE (which plans but does not run; its query is checked like any other).
 */
const STATEMENTS: ReadonlySet<string> = new Set(["SelectStmt", "VariableShowStmt", "ExplainStmt"]);

/**
 * Node kinds a read-only query may contain. Anything else (a DML or DDL statement nested in a
 * CTE, an XML or JSON constructor this list has not reviewed, ...) makes the text not read-only.
 */
const NODES: ReadonlySet<string> = new Set([
  ...STATEMENTS,
  "A_ArrayExpr",
  "A_Const",
  "A_Expr",
  "A_Indices",
  "A_Indirection",
  "A_Star",
  "Alias",
  "BitString",
  "BoolExpr",
  "Boolean",
  "BooleanTest",
  "CaseExpr",
  "CaseWhen",
  "CoalesceExpr",
  "CollateClause",
  "ColumnDef",
  "ColumnRef",
  "CommonTableExpr",
  "DefElem",
  "Float",
  "FuncCall",
  "GroupingSet",
  "Integer",
  "JoinExpr",
  "List",
  "LockingClause",
  "MinMaxExpr",
  "NamedArgExpr",
  "NullTest",
  "ParamRef",
  "RangeFunction",
  "RangeSubselect",
  "RangeVar",
  "ResTarget",
  "RowExpr",
  "SQLValueFunction",
  "SortBy",
  "String",
  "SubLink",
  "TypeCast",
  "TypeName",
  "WindowDef",
  "WithClause",
]);

/**
 * Built-in operators (pg_catalog; by name, upper-cased for the keyword forms the parser keeps:
 * BETWEEN, NOT BETWEEN, ...). An operator is a function call: a user-defined one (CREATE
 * OPERATOR … FUNCTION = f, in any schema, or a new name such as ===) runs f, so anything not
 * on this list, or qualified with another schema, is not proven read-only. Residual risk: an
 * unqualified built-in name declared by a user for argument types pg_catalog has no operator
 * for; the built-in types below leave little room for that.
 */
const OPERATORS: ReadonlySet<string> = new Set([
  "=",
  "<>",
  "!=",
  "<",
  ">",
  "<=",
  ">=",
  "+",
  "-",
  "*",
  "/",
  "%",
  "^",
  "|/",
  "||/",
  "@",
  "&",
  "|",
  "#",
  "~",
  "<<",
  ">>",
  "||",
  "~~",
  "!~~",
  "~~*",
  "!~~*",
  "~*",
  "!~",
  "!~*",
  "@>",
  "<@",
  "&&",
  "->",
  "->>",
  "#>",
  "#>>",
  "?",
  "?|",
  "?&",
  "#-",
  "@?",
  "@@",
  "BETWEEN",
  "NOT BETWEEN",
  "BETWEEN SYMMETRIC",
  "NOT BETWEEN SYMMETRIC",
]);

/**
 * Built-in types a value may be cast to (pg_catalog, or the SQL standard names the parser
 * maps there). A cast to another type can run its input function or a user-defined cast.
 */
const TYPES: ReadonlySet<string> = new Set([
  "bool",
  "boolean",
  "int2",
  "int4",
  "int8",
  "smallint",
  "integer",
  "int",
  "bigint",
  "numeric",
  "decimal",
  "float4",
  "float8",
  "real",
  "double precision",
  "money",
  "text",
  "varchar",
  "bpchar",
  "char",
  "name",
  "bytea",
  "uuid",
  "json",
  "jsonb",
  "date",
  "time",
  "timetz",
  "timestamp",
  "timestamptz",
  "interval",
  "inet",
  "cidr",
  "macaddr",
  "macaddr8",
  "bit",
  "varbit",
  "oid",
  "xml",
  "tsvector",
  "tsquery",
  "point",
  "regclass",
  "regtype",
]);

/**
 * Built-in functions without side effects (pg_catalog only). Anything else is refused: a
 * function can write (nextval, setval, lo_import), reach out (dblink), read files
 * (pg_read_file), change settings (set_config) or stop other sessions (pg_terminate_backend),
 * and a user-defined function can do anything.
 */
const FUNCTIONS: ReadonlySet<string> = new Set([
  // aggregates
  "count",
  "sum",
  "avg",
  "min",
  "max",
  "array_agg",
  "string_agg",
  "bool_and",
  "bool_or",
  "every",
  "stddev",
  "stddev_pop",
  "stddev_samp",
  "variance",
  "var_pop",
  "var_samp",
  "corr",
  "percentile_cont",
  "percentile_disc",
  "mode",
  "json_agg",
  "jsonb_agg",
  "json_object_agg",
  "jsonb_object_agg",
  // window functions
  "row_number",
  "rank",
  "dense_rank",
  "percent_rank",
  "cume_dist",
  "ntile",
  "lag",
  "lead",
  "first_value",
  "last_value",
  "nth_value",
  // strings
  "lower",
  "upper",
  "initcap",
  "length",
  "char_length",
  "character_length",
  "octet_length",
  "substring",
  "substr",
  "trim",
  "btrim",
  "ltrim",
  "rtrim",
  "replace",
  "concat",
  "concat_ws",
  "left",
  "right",
  "position",
  "strpos",
  "split_part",
  "lpad",
  "rpad",
  "reverse",
  "repeat",
  "starts_with",
  "format",
  "regexp_replace",
  "regexp_match",
  "regexp_matches",
  "regexp_like",
  "regexp_split_to_array",
  "string_to_array",
  "array_to_string",
  "md5",
  "sha256",
  "encode",
  "decode",
  "to_char",
  "to_number",
  "to_hex",
  "ascii",
  "chr",
  "quote_ident",
  "quote_literal",
  // numbers
  "abs",
  "round",
  "ceil",
  "ceiling",
  "floor",
  "trunc",
  "mod",
  "power",
  "sqrt",
  "exp",
  "ln",
  "log",
  "sign",
  "greatest",
  "least",
  "width_bucket",
  // dates and times
  "now",
  "date_trunc",
  "date_part",
  "extract",
  "age",
  "to_date",
  "to_timestamp",
  "make_date",
  "make_interval",
  "make_timestamp",
  "timezone",
  "date_bin",
  "justify_days",
  "justify_hours",
  "clock_timestamp",
  "statement_timestamp",
  "transaction_timestamp",
  // arrays, sets and JSON
  "array_length",
  "cardinality",
  "unnest",
  "generate_series",
  "array_position",
  "array_remove",
  "json_build_object",
  "jsonb_build_object",
  "json_build_array",
  "jsonb_build_array",
  "to_json",
  "to_jsonb",
  "jsonb_extract_path",
  "jsonb_extract_path_text",
  "json_extract_path",
  "json_extract_path_text",
  "jsonb_array_elements",
  "json_array_elements",
  "jsonb_array_elements_text",
  "json_array_elements_text",
  "jsonb_array_length",
  "json_array_length",
  "jsonb_typeof",
  "json_typeof",
  "jsonb_each",
  "json_each",
  "jsonb_object_keys",
  "json_object_keys",
  "jsonb_pretty",
]);

/**
 * Classifies SQL as read-only or not, against allow-lists of statement kinds, node kinds and
 * functions: exactly one statement; SELECT, VALUES, SHOW, or EXPLAIN without ANALYZE; no
 * SELECT … INTO; no data-modifying CTE; no FOR UPDATE/SHARE; only allow-listed functions.
 * Unparseable text, or anything not on a list, is not read-only, with a reason.
 */
export function classifyStatement(parser: SqlParser, sql: string): SqlClassification {
  return analyseSql(parser, sql).classification;
}

/** One parse of a SQL text, for everything the host needs from it. */
export interface SqlAnalysis {
  readonly classification: SqlClassification;
  /**
   * Content ranges (UTF-16) of the plain `'…'` string literals the parse proved
   * (parser.ts, plainStringContents); empty when the text does not parse. A mask inside one of
   * them needs no second pass of the scanner; anything else is lexed.
   */
  readonly strings: readonly { readonly start: number; readonly end: number }[];
}

export function analyseSql(parser: SqlParser, sql: string): SqlAnalysis {
  const parsed = parser.parse(sql);
  if (!parsed.ok) {
    return {
      classification: {
        read_only: false,
        reasons: [`the SQL does not parse: ${parsed.error}`],
        statements: 0,
        qualifiers: [],
      },
      strings: [],
    };
  }
  const stmts = parsed.tree.stmts ?? [];
  const reasons = new Set<string>();
  const qualifiers = new Set<string>();
  const found: Found = { reasons, qualifiers, strings: [] };
  if (stmts.length !== 1) {
    reasons.add(`the SQL holds ${stmts.length} statements: exactly one is allowed`);
  }
  for (const raw of stmts) {
    const stmt = (raw as { stmt?: Record<string, unknown> }).stmt ?? {};
    for (const [kind, node] of Object.entries(stmt)) {
      if (!STATEMENTS.has(kind)) {
        reasons.add(`${statementName(kind)} is not a read-only statement`);
        continue;
      }
      checkNode(kind, node as Record<string, unknown>, found);
      visit(node, found, 0);
    }
  }
  return {
    classification: {
      read_only: reasons.size === 0,
      reasons: summarise([...reasons]),
      statements: stmts.length,
      qualifiers: [...qualifiers].sort(),
    },
    strings: plainStringContents(sql, found.strings),
  };
}

/** What a walk over the tree collects. */
interface Found {
  readonly reasons: Set<string>;
  readonly qualifiers: Set<string>;
  /** The string constants the parse saw (for literals proven without the scanner). */
  readonly strings: StringConstant[];
}

const MAX_DEPTH = 500;
/** Reasons kept: the policy quotes them in one line, and a decision's lines are bounded. */
const MAX_REASONS = 3;

function summarise(reasons: readonly string[]): string[] {
  if (reasons.length <= MAX_REASONS) return [...reasons];
  return [...reasons.slice(0, MAX_REASONS), `and ${reasons.length - MAX_REASONS} more`];
}

function visit(value: unknown, found: Found, depth: number): void {
  if (depth > MAX_DEPTH) {
    found.reasons.add("the SQL is nested too deeply to check");
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) visit(v, found, depth + 1);
    return;
  }
  if (value === null || typeof value !== "object") return;
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    // Node kinds are capitalised (SelectStmt, A_Const); fields are not (targetList).
    if (/^[A-Z]/.test(key)) checkNode(key, child as Record<string, unknown>, found);
    visit(child, found, depth + 1);
  }
}

function checkNode(kind: string, node: Record<string, unknown>, found: Found): void {
  const reasons = found.reasons;
  if (!NODES.has(kind)) {
    reasons.add(
      kind.endsWith("Stmt")
        ? `${statementName(kind)} inside the query is not read-only`
        : `${kind} is not in the allow-list of read-only SQL`,
    );
    return;
  }
  if (node === null || typeof node !== "object") return;
  if (kind === "A_Const") {
    const sval = (node.sval as { sval?: unknown } | undefined)?.sval;
    if (typeof sval === "string" && typeof node.location === "number") {
      found.strings.push({ sval, location: node.location });
    }
  }
  if (kind === "SelectStmt") {
    if (node.intoClause !== undefined) reasons.add("SELECT … INTO creates a table");
    if (node.lockingClause !== undefined) reasons.add("FOR UPDATE/SHARE locks rows");
  }
  if (kind === "ExplainStmt") {
    for (const opt of (node.options as unknown[] | undefined) ?? []) {
      const name = (opt as { DefElem?: { defname?: unknown } }).DefElem?.defname;
      if (typeof name === "string" && name.toLowerCase() === "analyze") {
        reasons.add("EXPLAIN ANALYZE runs the statement");
      }
    }
  }
  if (kind === "RangeVar") {
    for (const q of [node.catalogname, node.schemaname]) {
      if (typeof q === "string" && q !== "") found.qualifiers.add(normalizeForMatching(q));
    }
  }
  if (kind === "A_Expr") {
    const parts = names(node.name);
    const op = parts[parts.length - 1];
    const schema = parts.length === 2 ? parts[0] : parts.length === 1 ? "pg_catalog" : null;
    if (typeof op !== "string" || schema !== "pg_catalog" || !OPERATORS.has(op.toUpperCase())) {
      reasons.add(
        `the operator ${describeOperator(parts)} is not in the allow-list of built-in operators`,
      );
    }
  }
  // A TypeName sits untagged under the typeName field of a cast or a column definition.
  const typeName = kind === "TypeName" ? node : (node.typeName as { names?: unknown } | undefined);
  if (typeName !== undefined && typeName !== null && typeof typeName === "object") {
    const parts = names(typeName.names);
    const type = parts[parts.length - 1];
    const schema = parts.length === 2 ? parts[0] : parts.length === 1 ? "pg_catalog" : null;
    if (typeof type !== "string" || schema !== "pg_catalog" || !TYPES.has(type.toLowerCase())) {
      reasons.add(`the type ${describeFunction(parts)} is not in the allow-list of built-in types`);
    }
  }
  if (kind === "FuncCall") {
    const parts = ((node.funcname as unknown[] | undefined) ?? []).map(
      (p) => (p as { String?: { sval?: unknown } }).String?.sval,
    );
    const name = parts[parts.length - 1];
    const schema = parts.length === 2 ? parts[0] : parts.length === 1 ? "pg_catalog" : null;
    if (typeof name !== "string" || schema !== "pg_catalog" || !FUNCTIONS.has(name.toLowerCase())) {
      reasons.add(
        `the function ${describeFunction(parts)} is not in the allow-list of side-effect-free functions`,
      );
    }
  }
}

/** The strings of a name list (`[{String: {sval}}]`); anything else as undefined. */
function names(list: unknown): unknown[] {
  return (Array.isArray(list) ? list : []).map(
    (p) => (p as { String?: { sval?: unknown } }).String?.sval,
  );
}

function describeOperator(parts: readonly unknown[]): string {
  return parts
    .map((p) => (typeof p === "string" ? p : "?"))
    .join(".")
    .replace(/[^\w.$+\-*/<>=~!@#%^&|`?]/g, "?")
    .slice(0, 63);
}

function describeFunction(parts: readonly unknown[]): string {
  return parts
    .map((p) => (typeof p === "string" ? p : "?"))
    .join(".")
    .replace(/[^\w.$]/g, "?")
    .slice(0, 63);
}

/** "DeleteStmt" → "DELETE", "CreateTableAsStmt" → "CREATE TABLE AS". */
function statementName(kind: string): string {
  return kind
    .replace(/Stmt$/, "")
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .toUpperCase();
}
