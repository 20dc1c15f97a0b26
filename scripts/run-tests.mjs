// Runs every test (unit and QEMU integration) with vitest, then closes with
// one line giving how many passed and failed.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";

const results = "build/test-results.json";
rmSync(results, { force: true });
const run = spawnSync("node_modules/.bin/vitest", ["run", ...process.argv.slice(2)], { stdio: "inherit" });
let passed = 0;
let failed = 0;
if (existsSync(results)) {
  const report = JSON.parse(readFileSync(results, "utf8"));
  passed = report.numPassedTests;
  failed = report.numFailedTests + (report.numFailedTestSuites ?? 0);
  // Named again at the end, where a log cut to its last lines still shows them.
  for (const file of report.testResults) {
    for (const test of file.assertionResults) {
      if (test.status !== "failed") continue;
      const why = (test.failureMessages?.[0] ?? "").split("\n")[0].slice(0, 200);
      console.log(`FAILED ${file.name.replace(process.cwd() + "/", "")} > ${test.fullName}: ${why}`);
    }
  }
}
const ok = run.status === 0 && failed === 0 && passed > 0;
console.log(`tests: ${passed} passed, ${failed} failed${ok ? "" : " (FAILED)"}`);
process.exit(ok ? 0 : 1);
