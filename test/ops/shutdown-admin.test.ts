// Shutdown and the Admin API's long-lived connections. Live feeds (WatchRequests) never end by
// themselves, so shutdown ends them with Unavailable, which tells clients to reconnect (to another
// replica), instead of holding the grace period. HTTP/2 clients (gRPC) get GOAWAY: the call they
// have under way still finishes, and a stream that outlives the grace period is ended with its
// session.
import http2 from "node:http2";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterEach, describe, expect, it } from "vitest";
import { AdminService } from "../../sdk/index.js";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/admin-server.js";
import { bearer } from "../helpers/bearer.js";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";

let gw: TestGateway | undefined;
let db: ScratchDatabase | undefined;

afterEach(async () => {
  await gw?.close();
  await db?.drop();
  gw = undefined;
  db = undefined;
});

async function start(shutdownGraceMs: number): Promise<TestGateway> {
  db = await createScratchDatabase();
  gw = await startTestGateway({ databaseUrl: db.url, config: { server: { shutdownGraceMs } } });
  return gw;
}

/** Rejects with `what` if `p` has not settled after `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const GET_STATUS = "/keygate.v1.AdminService/GetStatus";
/** A gRPC message frame holding an empty GetStatusRequest: no compression, length 0. */
const EMPTY_GRPC_MESSAGE = Buffer.alloc(5);

/**
 * Opens an HTTP/2 session and a gRPC GetStatus call whose request is not sent yet, so the call is
 * under way in the gateway. A whole second call on the same session proves the gateway has taken
 * the first: it handles a connection's frames in order.
 */
async function pendingGrpcCall(g: TestGateway) {
  const session = http2.connect(g.url);
  session.on("error", () => undefined);
  const headers = {
    ":method": "POST",
    "content-type": "application/grpc",
    te: "trailers",
    authorization: `Bearer ${g.adminToken}`,
  };
  const call = session.request({ ...headers, ":path": GET_STATUS }, { endStream: false });
  call.on("error", () => undefined);
  const goaway = new Promise<void>((resolve) => session.once("goaway", () => resolve()));
  const closed = new Promise<void>((resolve) => call.once("close", () => resolve()));
  let status = "";
  call.on("trailers", (t) => (status = String(t["grpc-status"])));
  call.on("data", () => undefined);
  const probe = session.request({ ...headers, ":path": GET_STATUS });
  probe.end(EMPTY_GRPC_MESSAGE);
  probe.resume();
  await new Promise<void>((resolve, reject) => {
    probe.once("close", resolve);
    probe.once("error", reject);
  });
  return { session, call, goaway, closed, grpcStatus: () => status };
}

describe("shutdown with Admin API clients connected", () => {
  it("ends live feeds over Connect (HTTP/1.1) and gRPC (HTTP/2) with Unavailable instead of waiting out the grace period", async () => {
    const g = await start(120_000);
    const clients = [
      createClient(
        AdminService,
        createConnectTransport({ baseUrl: g.url, httpVersion: "1.1", interceptors: [bearer(g.adminToken)] }),
      ),
      createClient(
        AdminService,
        createGrpcTransport({ baseUrl: g.url, interceptors: [bearer(g.adminToken)] }),
      ),
    ];
    const feeds = clients.map((client) => {
      let live: () => void = () => undefined;
      const ready = new Promise<void>((resolve) => (live = resolve));
      const ended = (async () => {
        try {
          // The first message (missed = 0) confirms the subscription.
          for await (const _ of client.watchRequests({})) live();
          return "ended without an error";
        } catch (err) {
          return err;
        }
      })();
      return { ready, ended };
    });
    await Promise.all(feeds.map((f) => f.ready));

    await within(g.gateway.close(), 60_000, "close() was still waiting for the live feeds");
    for (const f of feeds) {
      const err = await f.ended;
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe(Code.Unavailable);
      expect((err as ConnectError).rawMessage).toMatch(/shutting down/);
    }
  });

  it("sends GOAWAY to an HTTP/2 client and lets the call it has under way finish", async () => {
    const g = await start(120_000);
    const c = await pendingGrpcCall(g);
    const closing = g.gateway.close();
    await within(c.goaway, 30_000, "no GOAWAY arrived");
    c.call.end(EMPTY_GRPC_MESSAGE);
    await within(c.closed, 30_000, "the call did not finish");
    expect(c.grpcStatus()).toBe("0");
    // The session had nothing else under way, so shutdown need not wait out the grace period.
    await within(closing, 60_000, "close() was still waiting");
    c.session.destroy();
  });

  it("does not wait out the grace period for a session whose client already sent GOAWAY", async () => {
    const g = await start(120_000);
    const c = await pendingGrpcCall(g);
    c.session.goaway();
    // The ping's answer comes after the gateway has read the GOAWAY sent before it.
    await new Promise<void>((resolve, reject) => c.session.ping((err) => (err ? reject(err) : resolve())));
    const closing = g.gateway.close();
    c.call.end(EMPTY_GRPC_MESSAGE);
    await within(c.closed, 30_000, "the call did not finish");
    expect(c.grpcStatus()).toBe("0");
    await within(closing, 60_000, "close() was still waiting");
    c.session.destroy();
  });

  it("ends an HTTP/2 call that outlives the grace period", async () => {
    const g = await start(200);
    const c = await pendingGrpcCall(g);
    await g.gateway.close();
    await within(c.closed, 30_000, "the call was still open after shutdown");
    expect(c.grpcStatus()).toBe("");
    expect(c.session.destroyed || c.session.closed).toBe(true);
  });
});
