import { existsSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { EXIT, InterlockError } from "../errors.ts";
import { buildPolicies, testPolicies } from "../policy/build.ts";
import { findOpa } from "../policy/toolchain.ts";
import { progress, type CliIO } from "./io.ts";
import { booleanFlag, stringFlag, type CommandInput } from "./command.ts";

/** `interlock policy build` and `interlock policy test`. */
export async function policyCommand(input: CommandInput, io: CliIO): Promise<number> {
  const { positionals } = input;
  const values = { json: booleanFlag(input, "json"), repo: stringFlag(input, "repo") };
  const sub = positionals[0];
  if (sub === undefined) throw new InterlockError("usage", "missing 'build' or 'test'");
  if (positionals.length > 1)
    throw new InterlockError("usage", `unexpected argument '${positionals[1]}'`);
  const repoDir = resolve(io.cwd, values.repo ?? ".");
  const policiesDir = join(repoDir, "policies");
  if (!existsSync(policiesDir)) {
    throw new InterlockError("usage", `${repoDir} has no policies/ directory`, {
      hint: "Run this in an approvals repository (made by 'interlock init'), or pass --repo <dir>.",
    });
  }
  const say = progress(io, values.json);
  const opa = findOpa(io.env);
  switch (sub) {
    case "build": {
      say(`Compiling ${relative(io.cwd, policiesDir) || "."} to Wasm with opa build…`);
      const manifest = await buildPolicies(policiesDir, { opa });
      if (values.json) io.stdout.write(JSON.stringify(manifest, null, 2) + "\n");
      else {
        io.stdout.write(
          `Built ${relative(io.cwd, join(policiesDir, "dist")) || "dist"} with opa ${manifest.opa_version}\n` +
            `  policy revision ${manifest.revision}\n`,
        );
      }
      return EXIT.ok;
    }
    case "test": {
      say("Running the Rego unit tests with opa test…");
      const result = await testPolicies(policiesDir, { opa, json: values.json });
      io.stdout.write(result.output.endsWith("\n") ? result.output : result.output + "\n");
      return result.passed ? EXIT.ok : EXIT.failure;
    }
    default:
      throw new InterlockError("usage", `unknown policy command '${sub}'`, {
        hint: "Use 'interlock policy build' or 'interlock policy test'.",
      });
  }
}
