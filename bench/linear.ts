/**
 * Linear parse → decide → mask: requests as large as the limit allows (1 MiB), shaped to make
 * any super-linear step show (bench/attack-inputs.ts), and nesting bombs that must be refused
 * before they are built. Each input runs three times; the median wall and CPU times are kept.
 */
import { decideAndMask, type DecideContext } from "../src/decide.ts";
import { InterlockError } from "../src/errors.ts";
import { parseRequest } from "../src/request/parse.ts";
import { attackInputs, deepInputs } from "./attack-inputs.ts";

export interface LinearRow {
  readonly name: string;
  readonly bytes: number;
  readonly keys: number;
  readonly findings: number;
  readonly outcome: string;
  /** Median of three runs, milliseconds. */
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly parseMs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function measure(text: string, ctx: DecideContext) {
  const wall: number[] = [];
  const cpu: number[] = [];
  const parse: number[] = [];
  let outcome = "";
  let findings = 0;
  for (let i = 0; i < 3; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    try {
      const request = parseRequest(text);
      parse.push(performance.now() - t0);
      const ev = decideAndMask(request, ctx);
      findings = ev.findings.length;
      outcome = ev.decision.allow ? "allowed" : `denied: ${ev.decision.deny[0] ?? ""}`;
    } catch (err) {
      if (!(err instanceof InterlockError)) throw err;
      parse.push(performance.now() - t0);
      outcome = `refused (exit ${err.exitCode}): ${err.message.split("\n")[0]}`;
    }
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wallMs: median(wall), cpuMs: median(cpu), parseMs: median(parse), outcome, findings };
}

export function benchLinear(ctx: DecideContext): { shapes: LinearRow[]; bombs: LinearRow[] } {
  const shapes = attackInputs().map((a) => ({
    name: a.name,
    bytes: Buffer.byteLength(a.text),
    keys: a.keys,
    ...measure(a.text, ctx),
  }));
  const bombs = deepInputs(100_000).map((d) => ({
    name: `100,000 levels: ${d.name}`,
    bytes: Buffer.byteLength(d.text),
    keys: 0,
    ...measure(d.text, ctx),
  }));
  return { shapes, bombs };
}
