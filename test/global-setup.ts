// The Postgres and Redis suites are mandatory: fail fast, with one clear line, if a service the
// suite needs is not reachable (vitest.config.ts points at the local ones by default).
import net from "node:net";

function reachable(url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: u.hostname || "127.0.0.1", port: Number(u.port) || defaultPort });
    socket.setTimeout(2000);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(false));
  });
}

export default async function setup(): Promise<void> {
  const db = process.env.TEST_DATABASE_URL ?? "";
  const redis = process.env.TEST_REDIS_URL ?? "";
  const missing: string[] = [];
  if (!(await reachable(db, 5432))) missing.push(`Postgres at ${new URL(db).host} (TEST_DATABASE_URL)`);
  if (!(await reachable(redis, 6379))) missing.push(`Redis at ${new URL(redis).host} (TEST_REDIS_URL)`);
  if (missing.length > 0)
    throw new Error(
      `the test suite needs ${missing.join(" and ")}: start it or point the variable elsewhere`,
    );
}
