// One port for everything: the inference façade, the Admin API (Connect, gRPC-Web and gRPC),
// health, metrics and the dashboard. Cleartext connections are sniffed for the HTTP/2 preface so
// gRPC clients (h2c, prior knowledge) and HTTP/1.1 clients share the port; with TLS, ALPN decides.
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import http2 from "node:http2";
import net, { type AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import type { KeygateConfig } from "../config/types.js";
import type { Logger } from "../log/logger.js";
import type { FacadeDeps } from "../facade/deps.js";
import { handleInference } from "../facade/inference.js";
import { handleModels } from "../facade/models.js";
import { matchRoute } from "../facade/routes.js";
import { createAllowlist } from "./allowlist.js";
import type { ClientIpResolver } from "./client-ip.js";
import { createTlsReloader, type TlsReloader, type TlsReloadResult } from "./tls-reload.js";
import type { StaticFiles } from "./static.js";

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface ReadyCheck {
  name: string;
  ok: boolean;
  message?: string;
}

export interface ServerDeps {
  config: KeygateConfig;
  logger: Logger;
  facade: FacadeDeps;
  /** The Connect adapter for the Admin API. */
  admin: NodeHandler;
  /** The client's address (the connection's, or X-Forwarded-For's from a trusted proxy). */
  clientIp: ClientIpResolver;
  ready: () => Promise<ReadyCheck[]>;
  metrics?: () => Promise<{ contentType: string; body: string }>;
  ui?: StaticFiles;
}

export interface GatewayServer {
  listen(port: number, host: string): Promise<AddressInfo>;
  /** Stops accepting, waits up to graceMs for in-flight requests, then closes connections. */
  close(graceMs: number): Promise<void>;
  inflight(): number;
  /** Loads the TLS certificate and key files again if they changed (SIGHUP). */
  reloadTls(): Promise<TlsReloadResult>;
  /** When the served TLS certificate expires (epoch ms); undefined without TLS. */
  tlsExpiresAt(): number | undefined;
}

const ADMIN_PREFIX = "/keygate.v1.AdminService/";
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
/**
 * How long shutdown waits, after closing every connection, for the handlers it cut off. They end as
 * soon as their pending call returns; a limit check waits at most redis.commandTimeoutMs.
 */
const HANDLER_SETTLE_MS = 5_000;

function json(res: ServerResponse, status: number, body: unknown, headers: string[] = []): void {
  const s = JSON.stringify(body);
  res.writeHead(status, [
    "content-type",
    "application/json",
    "content-length",
    String(Buffer.byteLength(s)),
    ...headers,
  ]);
  res.end(s);
}

export function createGatewayServer(deps: ServerDeps): GatewayServer {
  const { config, logger } = deps;
  const allowed = createAllowlist(config.security.allowedIPs);
  let inflight = 0;
  let draining = false;
  // HTTP/2 sessions (gRPC clients of the Admin API), so shutdown can send them GOAWAY and end them.
  const sessions = new Set<http2.ServerHttp2Session>();
  /** Resolved once no HTTP/1.1 request is in flight and every HTTP/2 session has closed. */
  const drainWaiters: (() => void)[] = [];
  const drained = (): boolean => inflight === 0 && sessions.size === 0;
  const checkDrained = (): void => {
    if (draining && drained()) while (drainWaiters.length) drainWaiters.shift()!();
  };

  // Façade handlers still running. A handler whose connection shutdown cut off goes on until its
  // pending call (limit check, upstream) returns, and only then stamps its usage record.
  let handlers = 0;
  const handlerWaiters: (() => void)[] = [];
  const handlerDone = (): void => {
    handlers--;
    if (handlers === 0) while (handlerWaiters.length) handlerWaiters.shift()!();
  };

  /** Counts an HTTP/1.1 request until its response closes. (HTTP/2 calls keep their session open.) */
  function track(res: ServerResponse): void {
    inflight++;
    res.once("close", () => {
      inflight--;
      checkDrained();
    });
  }

  const onRequest: NodeHandler = (req, res) => {
    const t0 = performance.now();
    const ip = deps.clientIp(req);
    // The allowlist comes before anything else, authentication included, on every route.
    if (!allowed(ip)) {
      req.resume();
      return json(res, 403, {
        error: { message: "Source address not allowed.", type: "forbidden", code: "ip_not_allowed" },
      });
    }
    track(res);
    if (draining) res.setHeader("connection", "close");
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    if (path.startsWith(ADMIN_PREFIX)) return deps.admin(req, res);
    const route = matchRoute(req.method ?? "GET", path, req.headers);
    if (route) {
      const query = q < 0 ? undefined : new URLSearchParams(url.slice(q + 1));
      const work =
        route.kind === "inference"
          ? handleInference(deps.facade, route, req, res, query, ip, t0)
          : handleModels(deps.facade, route.family, req, res, query, ip, t0);
      handlers++;
      work.then(handlerDone, (err: unknown) => {
        handlerDone();
        logger.error(
          { err: (err as Error).message, stack: (err as Error).stack, path },
          "unhandled façade error",
        );
        if (!res.headersSent)
          json(res, 500, { error: { message: "Internal error.", type: "server_error", code: null } });
        else res.destroy();
      });
      return;
    }
    void serveOther(req, res, path);
  };

  async function serveOther(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    req.resume();
    if (req.method !== "GET" && req.method !== "HEAD") {
      return json(res, 404, {
        error: { message: `No route for ${req.method} ${path}.`, type: "not_found", code: null },
      });
    }
    if (path === "/healthz") return json(res, 200, { status: "ok" });
    if (path === "/readyz") {
      const checks = await deps
        .ready()
        .catch((err: Error) => [{ name: "ready", ok: false, message: err.message }]);
      const ok = !draining && checks.every((c) => c.ok);
      return json(res, ok ? 200 : 503, { status: ok ? "ready" : "not ready", draining, checks });
    }
    if (path === "/metrics" && deps.metrics) {
      const m = await deps.metrics();
      res.writeHead(200, ["content-type", m.contentType]);
      return void res.end(m.body);
    }
    if (deps.ui && (path === "/" || path === "/ui")) {
      res.writeHead(302, ["location", "/ui/"]);
      return void res.end();
    }
    if (deps.ui && path.startsWith("/ui/")) {
      const file = deps.ui.get(path.slice(4) || "index.html") ?? deps.ui.get("index.html");
      if (file) {
        res.writeHead(200, [
          "content-type",
          file.contentType,
          "content-length",
          String(file.body.length),
          "cache-control",
          file.immutable ? "public, max-age=31536000, immutable" : "no-cache",
          "x-content-type-options",
          "nosniff",
        ]);
        return void res.end(req.method === "HEAD" ? undefined : file.body);
      }
    }
    return json(res, 404, { error: { message: `No route for GET ${path}.`, type: "not_found", code: null } });
  }

  // HTTP/2 streams carry only the Admin API (gRPC needs HTTP/2); everything else speaks HTTP/1.1.
  const onH2Request = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void => {
    if (!allowed(deps.clientIp(req))) {
      res.writeHead(403, { "content-type": "application/json" });
      return void res.end(
        JSON.stringify({ error: { message: "Source address not allowed.", type: "forbidden" } }),
      );
    }
    if (req.url.startsWith(ADMIN_PREFIX))
      return deps.admin(req as unknown as IncomingMessage, res as unknown as ServerResponse);
    res.writeHead(404, { "content-type": "application/json" });
    res.end(
      JSON.stringify({ error: { message: "Only the Admin API is served over HTTP/2.", type: "not_found" } }),
    );
  };

  const headersTimeout = config.server.headersTimeoutMs;
  const h1Options: http.ServerOptions = {
    keepAliveTimeout: 65_000,
    requestTimeout: 0,
    headersTimeout,
    // Node checks the timeout on this interval (30 s by default): a short timeout needs a short one.
    connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(headersTimeout / 4))),
  };
  let listener: net.Server;
  /** Stops Node's connection checks on a server that never listened itself. */
  let stopH1Checks = (): void => undefined;
  /** Closes the HTTP/1.1 connections: only the idle ones, or all of them. */
  let closeH1Connections: (all: boolean) => void;
  let h2: http2.Http2Server | http2.Http2SecureServer;

  let tlsReloader: TlsReloader | undefined;
  if (config.tls.enabled) {
    const files = { cert: config.tls.cert!, key: config.tls.key! };
    const serving = { cert: readFileSync(files.cert), key: readFileSync(files.key) };
    const secure = http2.createSecureServer({
      allowHTTP1: true,
      ...serving,
      // HTTP/2 carries only the Admin API's gRPC. A client that also speaks HTTP/1.1 (curl,
      // browsers, SDKs with HTTP/2 on) gets HTTP/1.1, where everything is served; gRPC clients
      // offer only h2.
      ALPNCallback: ({ protocols }) =>
        protocols.includes("http/1.1") ? "http/1.1" : protocols.includes("h2") ? "h2" : undefined,
    });
    // Node hands HTTP/1.1 connections to its HTTP server code with these settings; without
    // keepAliveTimeout an idle keep-alive connection would never be closed.
    Object.assign(secure, h1Options);
    // Node keeps the HTTP server's connection list on this server for allowHTTP1, and its own
    // closeIdleConnections() applies the HTTP server's method to it; closeAllConnections() is
    // missing, so both are applied the same way.
    const { closeAllConnections, closeIdleConnections } = http.Server.prototype;
    closeH1Connections = (all) => Reflect.apply(all ? closeAllConnections : closeIdleConnections, secure, []);
    secure.on(
      "request",
      (req: IncomingMessage | http2.Http2ServerRequest, res: ServerResponse | http2.Http2ServerResponse) => {
        if (req.httpVersionMajor === 2)
          onH2Request(req as http2.Http2ServerRequest, res as http2.Http2ServerResponse);
        else onRequest(req as IncomingMessage, res as ServerResponse);
      },
    );
    h2 = secure;
    listener = secure;
    tlsReloader = createTlsReloader(secure, files, serving, logger);
  } else {
    const h1 = http.createServer(h1Options, onRequest);
    // This server never listens itself: the sniffing listener below hands it its connections. Node
    // starts tracking an HTTP server's connections on "listening", and without that tracking
    // headersTimeout and requestTimeout are never checked and closeIdleConnections() and
    // closeAllConnections() find nothing to close.
    h1.emit("listening");
    closeH1Connections = (all) => (all ? h1.closeAllConnections() : h1.closeIdleConnections());
    stopH1Checks = () => h1.close(() => undefined);
    const plainH2 = http2.createServer();
    plainH2.on("request", onH2Request);
    h2 = plainH2;
    const http1 = h1;
    listener = net.createServer({ noDelay: true }, (socket) => {
      socket.once("readable", () => {
        const head: Buffer | null = socket.read(H2_PREFACE.length) ?? socket.read();
        if (head) socket.unshift(head);
        const isH2 =
          head !== null &&
          head.length >= 3 &&
          H2_PREFACE.subarray(0, Math.min(head.length, H2_PREFACE.length)).equals(
            head.subarray(0, Math.min(head.length, H2_PREFACE.length)),
          );
        (isH2 ? plainH2 : http1).emit("connection", socket);
      });
    });
  }
  listener.on("error", (err) => logger.error({ err: err.message }, "listener error"));
  h2.on("session", (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.once("close", () => {
      sessions.delete(session);
      checkDrained();
    });
    // A connection accepted before shutdown may only now have become a session.
    if (draining) session.close();
  });

  return {
    listen(port, host) {
      return new Promise((resolve, reject) => {
        listener.once("error", reject);
        listener.listen(port, host, () => {
          listener.off("error", reject);
          resolve(listener.address() as AddressInfo);
        });
      });
    },
    async close(graceMs) {
      draining = true;
      tlsReloader?.stop();
      const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
      closeH1Connections(false);
      // GOAWAY: a session takes no new streams, and closes once those under way have finished and
      // their last frames are out. (A session its client already sent GOAWAY is closing anyway.)
      for (const session of sessions) session.close();
      if (!drained()) {
        await Promise.race([
          new Promise<void>((resolve) => drainWaiters.push(resolve)),
          new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref()),
        ]);
      }
      closeH1Connections(true);
      for (const session of sessions) session.destroy();
      await Promise.race([closed, new Promise<void>((resolve) => setTimeout(resolve, 1000).unref())]);
      stopH1Checks();
      // The usage queue's last flush follows: every handler must have stamped its record by then.
      if (handlers > 0) {
        await Promise.race([
          new Promise<void>((resolve) => handlerWaiters.push(resolve)),
          new Promise<void>((resolve) => setTimeout(resolve, HANDLER_SETTLE_MS).unref()),
        ]);
      }
    },
    inflight: () => inflight,
    reloadTls: () => tlsReloader?.reload() ?? Promise.resolve("off"),
    tlsExpiresAt: () => tlsReloader?.expiresAt(),
  };
}
