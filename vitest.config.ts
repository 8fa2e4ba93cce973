import { defineConfig } from "vitest/config";

// The Postgres and Redis suites run against the local services unless told otherwise, so a plain
// `npm test` on a machine with both running (as CI's) exercises everything.
const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";
const TEST_REDIS_URL = process.env.TEST_REDIS_URL || "redis://127.0.0.1:6379";
process.env.TEST_DATABASE_URL = TEST_DATABASE_URL;
process.env.TEST_REDIS_URL = TEST_REDIS_URL;

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Suites spawn gateways, databases and browsers. These limits only catch hangs, so they leave
    // room for a starved 2-core VM, where one CLI test spawning gwctl many times took over 60 s.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: "forks",
    maxWorkers: 2,
    fileParallelism: true,
    globalSetup: ["test/global-setup.ts"],
    env: { TEST_DATABASE_URL, TEST_REDIS_URL },
  },
});
