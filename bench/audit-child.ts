/**
 * Runs `interlock <args>` like bin/interlock.js and writes its exit code and peak RSS to the
 * file named by BENCH_RUSAGE_FILE. Used to measure peak memory when /usr/bin/time is missing.
 */
import { writeFileSync } from "node:fs";
import { main } from "../src/cli/main.ts";

const code = await main(process.argv.slice(2));
const file = process.env.BENCH_RUSAGE_FILE;
if (file) {
  // maxRSS is in KiB on Linux.
  writeFileSync(file, JSON.stringify({ code, maxRssKiB: process.resourceUsage().maxRSS }));
}
process.exitCode = code;
