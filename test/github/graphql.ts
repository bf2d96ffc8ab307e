import {
  buildClientSchema,
  GraphQLError,
  graphql,
  type GraphQLFieldResolver,
  type GraphQLSchema,
} from "graphql";

/**
 * The simulator's GraphQL endpoint (POST /graphql), executed against GitHub's own published
 * schema (@octokit/graphql-schema, the introspection of api.github.com): a query that names a
 * field, argument or enum value GitHub does not have fails validation here as it would there,
 * and every answer has the types (nullability included) GitHub's schema gives. The simulator
 * only supplies values for the fields it models (see GitHubSimulator#graphqlRoot); a query for
 * any other field fails loudly instead of answering null.
 *
 * Answers follow https://docs.github.com/graphql/guides/forming-calls-with-graphql: HTTP 200
 * with `data` and, when a field could not be resolved, `errors` whose entries carry `type`
 * (e.g. "FORBIDDEN", "NOT_FOUND"), `path`, `locations` and `message`, the field itself null.
 */

let schema: Promise<GraphQLSchema> | undefined;

/** GitHub's schema (its introspection, as published), built once per process (about 0.7 s). */
function githubSchema(): Promise<GraphQLSchema> {
  schema ??= import("@octokit/graphql-schema").then((m) =>
    buildClientSchema(m.schema.json as never),
  );
  return schema;
}

/** An error GitHub reports for one field (the field is answered null). */
export function fieldError(
  type: "FORBIDDEN" | "NOT_FOUND" | "MISSING_PAGINATION_BOUNDARIES",
  message: string,
): GraphQLError {
  return new GraphQLError(message, { extensions: { type } });
}

/** Thrown for a field the simulator does not model: a test must not read GitHub's silence. */
export class NotModelled extends Error {}

/**
 * Values are plain objects whose properties are values or functions of the field's
 * arguments (graphql-js's default resolver calls them); abstract types carry `__typename`.
 * A field the object does not have is not modelled: the query fails with a violation.
 */
const resolveField: GraphQLFieldResolver<unknown, unknown> = (source, args, ctx, info) => {
  const value = (source as Record<string, unknown>)[info.fieldName];
  if (info.fieldName === "__typename") return info.parentType.name;
  if (value === undefined) {
    if (!(info.fieldName in (source as object))) {
      throw new NotModelled(
        `the simulator does not model ${info.parentType.name}.${info.fieldName}`,
      );
    }
    return undefined;
  }
  return typeof value === "function"
    ? (value as (a: unknown, c: unknown) => unknown)(args, ctx)
    : value;
};

export interface GraphqlAnswer {
  readonly body: Record<string, unknown>;
  /** Why the simulator could not answer (an unmodelled field): a test defect, not GitHub's. */
  readonly violations: string[];
}

export async function answerGraphql(
  body: Record<string, unknown>,
  root: Record<string, unknown>,
): Promise<GraphqlAnswer> {
  const query = typeof body.query === "string" ? body.query : "";
  const variables = (body.variables ?? {}) as Record<string, unknown>;
  const result = await graphql({
    schema: await githubSchema(),
    source: query,
    rootValue: root,
    variableValues: variables,
    fieldResolver: resolveField,
  });
  const violations: string[] = [];
  const errors = (result.errors ?? []).map((e) => {
    if (e.originalError instanceof NotModelled) violations.push(e.message);
    const type = e.extensions?.type;
    return {
      ...(typeof type === "string" ? { type } : {}),
      ...(e.path ? { path: e.path } : {}),
      locations: e.locations ?? [],
      message: e.message,
    };
  });
  return {
    body: {
      ...(result.data !== undefined ? { data: result.data } : {}),
      ...(errors.length ? { errors } : {}),
    },
    violations,
  };
}

/** A connection page (first/after by index cursors), GitHub's shape. */
export function connection<T>(
  items: readonly T[],
  args: { first?: number | null; after?: string | null; last?: number | null },
): Record<string, unknown> {
  if (args.first == null && args.last == null) {
    throw fieldError(
      "MISSING_PAGINATION_BOUNDARIES",
      "You must provide a `first` or `last` value to properly paginate the connection.",
    );
  }
  const n = Math.min(100, args.first ?? args.last ?? 100);
  const start = args.after ? Number(Buffer.from(args.after, "base64").toString("utf8")) + 1 : 0;
  const slice = args.last != null ? items.slice(-n) : items.slice(start, start + n);
  const from = args.last != null ? Math.max(0, items.length - n) : start;
  const cursor = (i: number) => Buffer.from(String(i)).toString("base64");
  return {
    totalCount: items.length,
    nodes: slice,
    edges: slice.map((node, i) => ({ node, cursor: cursor(from + i) })),
    pageInfo: {
      hasNextPage: from + slice.length < items.length,
      hasPreviousPage: from > 0,
      startCursor: slice.length ? cursor(from) : null,
      endCursor: slice.length ? cursor(from + slice.length - 1) : null,
    },
  };
}
