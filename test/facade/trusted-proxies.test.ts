// keygate behind a load balancer: every connection comes from the balancer, so the client's
// address (for security.allowedIPs, a key's source CIDRs, usage records and the audit log) comes
// from X-Forwarded-For, but only on connections from security.trustedProxies. Without that
// setting the header is ignored, so a client cannot claim another address by sending it.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/admin-server.js";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AdminService, createAdminClient, type AdminClient } from "../../sdk/index.js";
import { bearer } from "../helpers/bearer.js";
import { waitForRecords } from "./harness.js";

// The tests connect from 127.0.0.1: that is "the load balancer".
const CLIENT_NET = "203.0.113.0/24";
const CLIENT = "203.0.113.7";
const OUTSIDER = "198.51.100.9";

let db: ScratchDatabase;
let behindProxy: TestGateway;
let direct: TestGateway;

beforeAll(async () => {
  db = await createScratchDatabase();
  const security = { allowedIPs: ["127.0.0.1", CLIENT_NET, "198.51.100.0/24"] };
  behindProxy = await startTestGateway({
    databaseUrl: db.url,
    config: { security: { ...security, trustedProxies: ["127.0.0.1/32"] } },
  });
  direct = await startTestGateway({ databaseUrl: db.url, config: { security } });
});
afterAll(async () => {
  await behindProxy?.close();
  await direct?.close();
  await db?.drop();
});

/** A fresh instance with a key that may only be used from CLIENT_NET. */
async function boundKey(admin: AdminClient): Promise<{ instanceId: string; secret: string }> {
  const instanceId = `xff-${randomUUID().slice(0, 8)}`;
  await admin.createInstance({ instanceId });
  const created = await admin.createKey({ instanceId, sourceCidrs: [CLIENT_NET] });
  return { instanceId, secret: created.secret };
}

function chat(gw: TestGateway, secret: string, forwardedFor?: string): Promise<Response> {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${secret}`,
      "content-type": "application/json",
      ...(forwardedFor ? { "x-forwarded-for": forwardedFor } : {}),
    },
    body: JSON.stringify({ model: "echo-1", messages: [{ role: "user", content: "hi" }] }),
  });
}

describe("X-Forwarded-For from a trusted proxy", () => {
  it("is the client's address for the key's source CIDRs and the usage record", async () => {
    const key = await boundKey(behindProxy.admin);
    // The client claims an address of its own; the balancer appends the one it saw.
    const ok = await chat(behindProxy, key.secret, `10.9.9.9, ${CLIENT}`);
    expect(ok.status).toBe(200);
    await ok.text();
    const [record] = await waitForRecords(behindProxy.admin, key.instanceId, 1);
    expect(record!.clientIp).toBe(CLIENT);

    const outsider = await chat(behindProxy, key.secret, `${CLIENT}, ${OUTSIDER}`);
    expect(outsider.status).toBe(403);
    expect(((await outsider.json()) as { error: { message: string } }).error.message).toBe(
      "This API key may not be used from this address.",
    );
  });

  it("is the address security.allowedIPs checks", async () => {
    const key = await boundKey(behindProxy.admin);
    const refused = await chat(behindProxy, key.secret, "192.0.2.1");
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("ip_not_allowed");
  });

  it("is the address the audit log records for Admin API calls", async () => {
    const admin = createAdminClient({
      baseUrl: behindProxy.url,
      token: behindProxy.adminToken,
      fetch: (input, init) => {
        const headers = new Headers(init?.headers);
        headers.set("x-forwarded-for", CLIENT);
        return fetch(input, { ...init, headers });
      },
    });
    const instanceId = `xff-audit-${randomUUID().slice(0, 8)}`;
    await admin.createInstance({ instanceId });
    // gRPC, over HTTP/2, from the same trusted proxy.
    const grpc = createClient(
      AdminService,
      createGrpcTransport({
        baseUrl: behindProxy.url,
        interceptors: [
          bearer(behindProxy.adminToken),
          (next) => (req) => {
            req.header.set("x-forwarded-for", `${OUTSIDER}, ${CLIENT}`);
            return next(req);
          },
        ],
      }),
    );
    const grpcInstanceId = `xff-grpc-${randomUUID().slice(0, 8)}`;
    await grpc.createInstance({ instanceId: grpcInstanceId });
    const { events } = await behindProxy.admin.listAuditEvents({});
    const addressOf = (id: string) => events.find((e) => e.resource.includes(id))?.clientIp;
    expect(addressOf(instanceId)).toBe(CLIENT);
    expect(addressOf(grpcInstanceId)).toBe(CLIENT);
  });
});

describe("X-Forwarded-For without trusted proxies", () => {
  it("is ignored: the connection's address is the client's", async () => {
    const key = await boundKey(direct.admin);
    const spoofed = await chat(direct, key.secret, CLIENT);
    expect(spoofed.status).toBe(403);
    await spoofed.text();
    const refusedRecord = (await waitForRecords(direct.admin, key.instanceId, 1))[0]!;
    expect(refusedRecord.clientIp).toBe("127.0.0.1");
  });
});
