/**
 * Requests shaped to make parsing, detection, the policy or masking super-linear: as large as
 * the size limit allows, with as many keys (or findings, or path characters) as fit. Used by
 * the resource-exhaustion test and by `npm run bench -- linear`. All values are fake.
 */

export interface AttackInput {
  readonly name: string;
  readonly text: string;
  /** Keys in the request (object keys at any depth). */
  readonly keys: number;
}

const head = {
  action: "db.export",
  resource: "postgres://staging/customers",
  reason: "resource-exhaustion probe",
  requester: { id: "agent:probe", kind: "agent", on_behalf_of: "alice" },
};

/** JSON of `head` with `params`, filled by `add(i)` until the next entry would pass `bytes`. */
function fill(
  bytes: number,
  entry: (i: number) => [string, unknown],
): AttackInput & {
  params: Record<string, unknown>;
} {
  const params: Record<string, unknown> = {};
  const base = Buffer.byteLength(JSON.stringify({ ...head, params: {} }));
  let size = base;
  let i = 0;
  for (;;) {
    const [k, v] = entry(i);
    const add = Buffer.byteLength(JSON.stringify(k)) + Buffer.byteLength(JSON.stringify(v)) + 2;
    if (size + add > bytes) break;
    params[k] = v;
    size += add;
    i++;
  }
  const text = JSON.stringify({ ...head, params });
  return { name: "", text, keys: i + 8, params };
}

const key = (i: number) => `k${i.toString(36)}`;

/** One flat mapping with as many short keys as fit: the shape of the original report. */
export function flatJson(bytes: number): AttackInput {
  const r = fill(bytes, (i) => [key(i), i % 10]);
  return { name: "flat mapping, JSON", text: r.text, keys: r.keys };
}

/** The same as block YAML (`  k1: 1` per line). */
export function flatYaml(bytes: number): AttackInput {
  const lines = [
    `action: ${head.action}`,
    `resource: ${head.resource}`,
    `reason: ${head.reason}`,
    "requester:",
    `  id: "${head.requester.id}"`,
    `  kind: ${head.requester.kind}`,
    `  on_behalf_of: ${head.requester.on_behalf_of}`,
    "params:",
  ];
  let size = Buffer.byteLength(lines.join("\n")) + 1;
  let i = 0;
  for (;;) {
    const line = `  ${key(i)}: ${i % 10}`;
    if (size + line.length + 1 > bytes) break;
    lines.push(line);
    size += line.length + 1;
    i++;
  }
  return { name: "flat mapping, YAML", text: lines.join("\n") + "\n", keys: i + 8 };
}

/** Every value an e-mail address: one finding, one policy mask rule per key. */
export function manyFindings(bytes: number): AttackInput {
  const r = fill(bytes, (i) => [key(i), `u${i.toString(36)}@example.com`]);
  return { name: "a finding under every key", text: r.text, keys: r.keys };
}

/** Every key an e-mail address: findings in keys (paths that must be masked). */
export function findingsInKeys(bytes: number): AttackInput {
  const r = fill(bytes, (i) => [`u${i.toString(36)}@example.com`, 1]);
  return { name: "a finding in every key", text: r.text, keys: r.keys };
}

/** Many small objects in a list: many mappings rather than one large one. */
export function manySmallObjects(bytes: number): AttackInput {
  const items: unknown[] = [];
  const base = Buffer.byteLength(JSON.stringify({ ...head, params: { items: [] } }));
  let size = base;
  for (let i = 0; ; i++) {
    const item = { a: i % 10, b: 1 };
    const add = Buffer.byteLength(JSON.stringify(item)) + 1;
    if (size + add > bytes) break;
    items.push(item);
    size += add;
  }
  return {
    name: "many small mappings",
    text: JSON.stringify({ ...head, params: { items } }),
    keys: items.length * 2 + 9,
  };
}

/**
 * A key as long as the path limit allows near the root, then as many keys under it as fit:
 * every path repeats the long prefix.
 */
export function longPrefix(bytes: number, prefixLength = 1000): AttackInput {
  const prefix = "p".repeat(prefixLength);
  const inner: Record<string, number> = {};
  let size = Buffer.byteLength(JSON.stringify({ ...head, params: { [prefix]: {} } }));
  for (let i = 0; ; i++) {
    const add = Buffer.byteLength(JSON.stringify(key(i))) + 3;
    if (size + add > bytes) break;
    inner[key(i)] = i % 10;
    size += add;
  }
  return {
    name: "long key above many keys",
    text: JSON.stringify({ ...head, params: { [prefix]: inner } }),
    keys: Object.keys(inner).length + 9,
  };
}

/** Every attack shape at `bytes` (default: just under the 1 MiB limit). */
export function attackInputs(bytes = 1024 * 1024 - 64): AttackInput[] {
  return [flatJson, flatYaml, manyFindings, findingsInKeys, manySmallObjects, longPrefix].map(
    (make) => make(bytes),
  );
}

/** Nested `depth` levels deep, in several syntaxes (JSON and YAML flow and block). */
export function deepInputs(depth: number): { name: string; text: string }[] {
  const req = (params: string) =>
    `{"action":"db.export","resource":"r","reason":"x","requester":{"id":"a","kind":"agent"},"params":${params}}`;
  return [
    { name: "JSON arrays", text: req("[".repeat(depth) + "]".repeat(depth)) },
    { name: "JSON objects", text: req('{"a":'.repeat(depth) + "1" + "}".repeat(depth)) },
    { name: "unclosed JSON arrays", text: req("[".repeat(depth)) },
    {
      name: "YAML flow sequences",
      text: `action: db.export\nparams: ${"[".repeat(depth)}${"]".repeat(depth)}\n`,
    },
    {
      name: "YAML flow mappings",
      text: `action: db.export\nparams: ${"{a: ".repeat(depth)}1${"}".repeat(depth)}\n`,
    },
    {
      name: "YAML block sequences",
      text: `action: db.export\nparams:\n  ${"- ".repeat(depth)}x\n`,
    },
  ];
}
