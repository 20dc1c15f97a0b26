import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // QEMU boots run in parallel, one per core; unit tests are quick either way.
    maxWorkers: 2,
    maxConcurrency: 3,
    testTimeout: 60_000,
    reporters: ["default", ["json", { outputFile: "build/test-results.json" }]],
  },
});
