// A TCP relay placed between the gateway and the fake upstream, so a test can see the upstream
// connection itself: what crossed it in each direction and when the gateway closed it.
import net, { type AddressInfo } from "node:net";

export interface RelayedConnection {
  /** Bytes the gateway sent upstream, as text. */
  sent(): string;
  /** Bytes the upstream sent back, as text, up to now. */
  received(): string;
  /** Resolves when the gateway's side of the connection is closed. */
  closed: Promise<void>;
}

export interface Relay {
  port: number;
  connections: RelayedConnection[];
  /** Resolves with the first connection (past or future) whose sent bytes contain `marker`. */
  connectionCarrying(marker: string, timeoutMs?: number): Promise<RelayedConnection>;
  close(): Promise<void>;
}

export async function startRelay(targetPort: number): Promise<Relay> {
  const connections: RelayedConnection[] = [];
  const sockets = new Set<net.Socket>();
  const watchers: (() => void)[] = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, "127.0.0.1");
    sockets.add(client);
    sockets.add(upstream);
    let sent = "";
    let received = "";
    const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
    client.on("data", (c: Buffer) => {
      sent += c.toString("utf8");
      upstream.write(c);
      for (const w of [...watchers]) w();
    });
    upstream.on("data", (c: Buffer) => {
      received += c.toString("utf8");
      client.write(c);
    });
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    connections.push({ sent: () => sent, received: () => received, closed });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    connections,
    connectionCarrying(marker, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = connections.find((c) => c.sent().includes(marker));
          if (!found) return false;
          clearTimeout(timer);
          watchers.splice(watchers.indexOf(watch), 1);
          resolve(found);
          return true;
        };
        const watch = (): void => void check();
        const timer = setTimeout(() => {
          watchers.splice(watchers.indexOf(watch), 1);
          reject(new Error(`no upstream connection carried ${marker} within ${timeoutMs} ms`));
        }, timeoutMs);
        watchers.push(watch);
        check();
      });
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound once, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves with the promise's value, or rejects once `ms` pass first. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
