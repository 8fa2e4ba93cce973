// keygate serving TLS itself (tls.enabled): one port where ALPN sends gRPC clients to HTTP/2 and
// everything else to HTTP/1.1, with the same timeouts and the same shutdown as in cleartext.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import OpenAI from "openai";
import pg from "pg";
import { Agent, fetch as undiciFetch, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService, createAdminClient, type AdminClient } from "../../sdk/index.js";
import { issueKey } from "../facade/harness.js";
import { startFakeUpstream, type FakeUpstream } from "../fakes/server.js";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/admin-server.js";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { selfSignedCertificate } from "../helpers/certificate.js";
import { sendAndReadUntilClosed } from "../helpers/raw-socket.js";
import { bearer } from "../helpers/bearer.js";

let dir: string;
let ca: Buffer;
let tlsConfig: { enabled: true; cert: string; key: string };
let db: ScratchDatabase;
let gw: TestGateway;
let agent: Agent;

/** fetch that trusts the test certificate. */
const trustingFetch = ((input: string | URL, init?: RequestInit) =>
  undiciFetch(input, { ...(init as object), dispatcher: agent })) as unknown as typeof fetch;

function adminOf(g: TestGateway): AdminClient {
  return createAdminClient({ baseUrl: g.url, token: g.adminToken, fetch: trustingFetch });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "keygate-tls-"));
  const { cert, key } = selfSignedCertificate(dir, "gateway");
  ca = readFileSync(cert);
  tlsConfig = { enabled: true, cert, key };
  agent = new Agent({ connect: { ca } });
  db = await createScratchDatabase();
  gw = await startTestGateway({
    databaseUrl: db.url,
    config: { tls: tlsConfig, server: { headersTimeoutMs: 500 } },
  });
});
afterAll(async () => {
  await gw?.close();
  await db?.drop();
  await agent?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("TLS", () => {
  it("serves the façade over HTTPS to the official openai client", async () => {
    expect(gw.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const key = await issueKey(adminOf(gw));
    const openai = new OpenAI({
      baseURL: `${gw.url}/v1`,
      apiKey: key.secret,
      maxRetries: 0,
      fetch: trustingFetch,
    });
    const { data, response } = await openai.chat.completions
      .create({ model: "echo-1", messages: [{ role: "user", content: "over tls" }] })
      .withResponse();
    expect(response.status).toBe(200);
    expect(response.headers.get("x-request-id")).toMatch(/\S/);
    expect(data.choices[0]?.message.content).toContain("over tls");
  });

  it("gives a client that offers HTTP/2 and HTTP/1.1 (curl, browsers) HTTP/1.1, where the façade is served", async () => {
    const key = await issueKey(adminOf(gw));
    const both = new Agent({ connect: { ca }, allowH2: true });
    try {
      const res = await request(`${gw.url}/v1/chat/completions`, {
        dispatcher: both,
        method: "POST",
        headers: { authorization: `Bearer ${key.secret}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "echo-1", messages: [{ role: "user", content: "either protocol" }] }),
      });
      const body = await res.body.text();
      expect(res.statusCode, body).toBe(200);
      expect(body).toContain("either protocol");
    } finally {
      await both.close();
    }
    const alpn = await new Promise<string | false | null>((resolve, reject) => {
      const socket = tlsConnect(
        { host: "127.0.0.1", port: Number(new URL(gw.url).port), ca, ALPNProtocols: ["h2", "http/1.1"] },
        () => {
          resolve(socket.alpnProtocol);
          socket.destroy();
        },
      );
      socket.once("error", reject);
    });
    expect(alpn).toBe("http/1.1");
  });

  it("serves the Admin API over gRPC (HTTP/2 by ALPN) and Connect (HTTP/1.1), and refuses a wrong token", async () => {
    const transports = [
      createGrpcTransport({ baseUrl: gw.url, nodeOptions: { ca }, interceptors: [bearer(gw.adminToken)] }),
      createConnectTransport({
        baseUrl: gw.url,
        httpVersion: "1.1",
        nodeOptions: { ca },
        interceptors: [bearer(gw.adminToken)],
      }),
    ];
    for (const transport of transports) {
      const status = await createClient(AdminService, transport).getStatus({});
      expect(status.version).toMatch(/\d+\.\d+\.\d+/);
    }
    const wrong = createClient(
      AdminService,
      createGrpcTransport({ baseUrl: gw.url, nodeOptions: { ca }, interceptors: [bearer("kg_admin_wrong")] }),
    );
    const err = await wrong.getStatus({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Unauthenticated);
  });

  it("answers unfinished HTTP/1.1 headers with 408 and closes the connection (server.headersTimeoutMs)", async () => {
    const port = Number(new URL(gw.url).port);
    const reply = await sendAndReadUntilClosed(
      (onConnect) => tlsConnect({ host: "127.0.0.1", port, ca, ALPNProtocols: ["http/1.1"] }, onConnect),
      "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n",
      30_000,
    );
    expect(reply).toMatch(/^HTTP\/1\.1 408 /);
  });
});

describe("TLS shutdown", () => {
  let fake: FakeUpstream | undefined;
  let own: { gw: TestGateway; db: ScratchDatabase } | undefined;
  afterAll(async () => {
    await own?.gw.close();
    await own?.db.drop();
    await fake?.close();
  });

  it("cuts an HTTP/1.1 stream that outlives the grace period, and records it as client_closed", async () => {
    fake = await startFakeUpstream();
    // 50 pieces 100 ms apart: the answer takes five seconds, far past the grace period.
    fake.streamChunks(50, 100);
    const ownDb = await createScratchDatabase();
    const g = await startTestGateway({
      databaseUrl: ownDb.url,
      config: {
        tls: tlsConfig,
        server: { shutdownGraceMs: 200 },
        providers: {
          openai: { type: "openai", apiKey: "sk-tls-test", baseUrl: `${fake.url}/v1`, models: ["gpt-4o"] },
        },
      },
    });
    own = { gw: g, db: ownDb };
    const key = await issueKey(adminOf(g));
    const res = await request(`${g.url}/v1/chat/completions`, {
      dispatcher: agent,
      method: "POST",
      headers: { authorization: `Bearer ${key.secret}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "gpt-4o",
        stream: true,
        messages: [{ role: "user", content: "slowly" }],
      }),
    });
    expect(res.statusCode).toBe(200);
    let text = "";
    const read = (async () => {
      try {
        for await (const c of res.body) text += (c as Buffer).toString("utf8");
        return "ended";
      } catch {
        return "connection closed";
      }
    })();
    // The answer has started: the request is under way when shutdown begins.
    while (!text.includes('"content"')) await new Promise<void>((r) => setImmediate(r));
    await g.close();
    expect(await read).toBe("connection closed");
    expect(text).not.toContain("[DONE]");

    const client = new pg.Client({ connectionString: ownDb.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ status_code: number; error_class: string }>(
        "select status_code, error_class from usage_records where instance_id = $1",
        [key.instanceId],
      );
      expect(rows).toEqual([{ status_code: 499, error_class: "client_closed" }]);
    } finally {
      await client.end();
    }
  });
});
