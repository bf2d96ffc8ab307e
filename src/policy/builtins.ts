/**
 * Builtins the Node host supplies to compiled policies beyond those opa-wasm implements in JS
 * (sprintf, regex.split, json.is_valid, yaml.*). Each one listed here must also be added to
 * HOST_BUILTINS in scripts/gen-capabilities.mjs so that `opa build` accepts it, and tested.
 *
 * The default policies need none today: OPA's Wasm runtime implements everything they use.
 */
export const HOST_BUILTINS: Record<string, (...args: unknown[]) => unknown> = {};
