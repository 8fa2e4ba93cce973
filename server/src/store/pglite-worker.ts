// Runs embedded PGlite on its own thread. PGlite is Postgres compiled to WebAssembly: every
// statement executes synchronously on the thread that calls it, so on the gateway's event loop a
// usage batch would stall every request in flight for milliseconds. Here it stalls nobody.
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import { PGlite } from "@electric-sql/pglite";
import {
  toEmbeddedError,
  type EmbeddedReply,
  type EmbeddedRequest,
  type EmbeddedWorkerData,
} from "./embedded-protocol.js";

const INT8_OID = 20;
// count(*) and sum(integer) come back as int8; token and request counts fit a double exactly.
const parseInt8 = (v: string): number => Number(v);

function workerPort(): MessagePort {
  if (!parentPort) throw new Error("pglite-worker must run in a worker thread");
  return parentPort;
}
const port = workerPort();
const send = (m: EmbeddedReply): void => port.postMessage(m);

const { dir } = workerData as EmbeddedWorkerData;
const unlistens = new Map<string, () => Promise<void>>();

try {
  const pg = await PGlite.create(dir, { parsers: { [INT8_OID]: parseInt8 } });
  port.on("message", (req: EmbeddedRequest) => {
    void handle(pg, req);
  });
  send({ kind: "ready" });
} catch (err) {
  send({ kind: "failed", error: toEmbeddedError(err) });
}

async function handle(pg: PGlite, req: EmbeddedRequest): Promise<void> {
  try {
    switch (req.op) {
      case "query": {
        const r = await pg.query(req.sql, req.params, { rowMode: "object" });
        send({
          kind: "result",
          id: req.id,
          rows: r.rows,
          ...(r.affectedRows !== undefined ? { affectedRows: r.affectedRows } : {}),
        });
        return;
      }
      case "listen": {
        if (!unlistens.has(req.channel)) {
          const channel = req.channel;
          unlistens.set(
            channel,
            await pg.listen(channel, (payload) => send({ kind: "notify", channel, payload })),
          );
        }
        send({ kind: "done", id: req.id });
        return;
      }
      case "unlisten": {
        await unlistens.get(req.channel)?.();
        unlistens.delete(req.channel);
        send({ kind: "done", id: req.id });
        return;
      }
      case "close": {
        await pg.close();
        send({ kind: "done", id: req.id });
        port.close();
        return;
      }
    }
  } catch (err) {
    send({ kind: "error", id: req.id, error: toEmbeddedError(err) });
  }
}
