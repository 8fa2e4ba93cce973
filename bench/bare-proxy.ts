// The least a Node gateway can do, as a reference point for keygate's figures on the same machine:
// node:http in front, undici's dispatch behind (the pair keygate uses), the client's body forwarded
// with the upstream credential swapped in, and the answer relayed chunk by chunk. No keys, limits,
// routing, metrics or usage records. Bundled to dist/bench-bare-proxy.js and run as its own process.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Command } from "commander";
import { Pool, type Dispatcher } from "undici";

const program = new Command()
  .name("bench-bare-proxy")
  .description(
    "Bare Node proxy in front of the bench upstream (the upstream key comes from BENCH_UPSTREAM_KEY)",
  )
  .requiredOption("--upstream <url>", "origin of the upstream")
  .option("--port <port>", "port to listen on (0 = random)", "0")
  .parse();

const opts = program.opts<{ upstream: string; port: string }>();
// The credential travels in the environment, not on the command line, as for the other clients.
const authorization = `Bearer ${process.env.BENCH_UPSTREAM_KEY ?? ""}`;
// keygate's upstream pool settings (server/src/facade/upstream.ts).
const pool = new Pool(opts.upstream, { connections: null, pipelining: 1 });

/** Response headers that describe the upstream connection, not the answer. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding"]);

function relay(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
  const handler: Dispatcher.DispatchHandler = {
    // undici tells this handler API from the older one by this method, so it must be present.
    onRequestStart() {},
    onResponseStart(_c, statusCode, headers) {
      const out: string[] = [];
      for (const name in headers) {
        const v = headers[name];
        if (HOP_BY_HOP.has(name) || v === undefined) continue;
        for (const one of Array.isArray(v) ? v : [v]) out.push(name, one);
      }
      res.writeHead(statusCode, out);
    },
    onResponseData(c, chunk) {
      // A full client socket pauses the upstream one until it drains.
      if (!res.write(chunk) && !c.paused) {
        c.pause();
        res.once("drain", () => c.resume());
      }
    },
    onResponseEnd() {
      res.end();
    },
    onResponseError(_c, err) {
      if (res.headersSent) res.destroy(err);
      else res.writeHead(502, { "content-type": "text/plain" }).end("upstream error");
    },
  };
  pool.dispatch(
    {
      path: req.url ?? "/",
      method: "POST",
      headers: [
        "content-type",
        req.headers["content-type"] ?? "application/json",
        "authorization",
        authorization,
        "content-length",
        String(body.length),
      ],
      body,
    },
    handler,
  );
}

const server = createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on("data", (c: Buffer) => parts.push(c));
  req.on("end", () => relay(req, res, parts.length === 1 ? parts[0]! : Buffer.concat(parts)));
});
// As keygate's own server (server/src/http/server.ts).
server.keepAliveTimeout = 65_000;
server.listen(Number(opts.port), "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${port}` }) + "\n");
});
process.once("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  void pool.destroy().finally(() => process.exit(0));
});
