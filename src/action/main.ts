import { productionDeps } from "./production.ts";
import { run } from "./run.ts";

/**
 * The action's entry (action.yml → dist/index.js, bundled from this file): it calls run() with
 * the real dependencies, and nothing else. import.meta.url is the bundle's own location, next
 * to which build-action ships the default policies (dist/policies).
 */
await run(productionDeps(import.meta.url));
