// Usage, requests, the live feed, limit status, routes, aliases and the audit log over real HTTP.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BudgetWindow } from "../../sdk/gen/keygate/v1/policy_pb.js";
import { RouteSource } from "../../sdk/gen/keygate/v1/routing_pb.js";
import { TimeBucket, UsageDimension } from "../../sdk/gen/keygate/v1/usage_pb.js";
import { createLiveHub } from "../../server/src/usage/live.js";
import { insertUsageBatch } from "../../server/src/store/usage.js";
import type { UsageRecord } from "../../server/src/usage/record.js";
import { BACKENDS, startAdminServer, type AdminServer } from "../helpers/admin-server.js";
import { failure } from "./rpc-util.js";
import { usageRecord } from "../helpers/records.js";

const TIMEOUTS = { connectMs: 5000, firstByteMs: 60000, idleMs: 60000, totalMs: 600000 };
const provider = (type: "openai" | "anthropic", isDefault = false) => ({
  type,
  apiKey: `sk-${type}-config-credential-000000`,
  models: [],
  default: isDefault,
  weight: 1,
  timeouts: TIMEOUTS,
  headers: {},
});

function rec(id: string, time: Date, over: Partial<UsageRecord> = {}): UsageRecord {
  return usageRecord({
    id,
    time,
    instanceId: "agent",
    keyId: "key_a",
    providerId: "openai",
    requestedModel: "gpt-4o",
    servedModel: "gpt-4o",
    inputTokens: 100,
    outputTokens: 20,
    costUsd: 0.25,
    latencyMs: 50,
    ttfbMs: 10,
    stream: true,
    clientIp: "10.1.2.3",
    userAgent: "sdk",
    replicaId: "r1",
    ...over,
  });
}

describe.each(BACKENDS)("usage and routing on %s", (backend) => {
  let srv: AdminServer;
  const now = new Date();
  const hourStart = new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000);
  beforeAll(async () => {
    srv = await startAdminServer({
      backend,
      config: {
        providers: { openai: provider("openai", true), anthropic: provider("anthropic") },
        routing: {
          strategy: "fallback",
          chain: ["anthropic", "openai"],
          rules: [
            { match: { maxTokens: 1000 }, provider: "openai", model: "gpt-4o-mini" },
            { match: { default: true }, provider: "anthropic" },
          ],
          aliases: { fast: [{ provider: "openai", model: "gpt-4o-mini", weight: 1 }] },
          retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 },
          breaker: { failureThreshold: 5, windowMs: 1000, cooldownMs: 1000 },
        },
      },
    });
    const c = srv.client();
    await c.createInstance({
      instanceId: "agent",
      instance: {
        policy: {
          budgets: [{ window: BudgetWindow.TOTAL, limitUsd: 10 }],
          rateLimit: { requestsPerMinute: 5n },
        },
      },
    });
    await insertUsageBatch(srv.db, [
      rec("r1", new Date(hourStart.getTime() + 1000)),
      rec("r2", new Date(hourStart.getTime() + 2000), { keyId: "key_b", latencyMs: 150 }),
      rec("r3", new Date(hourStart.getTime() + 3000), {
        providerId: "anthropic",
        requestedModel: "claude",
        servedModel: "claude",
        costUsd: null,
      }),
      rec("r4", new Date(hourStart.getTime() + 4000), {
        statusCode: 429,
        errorClass: "rate_limited",
        costUsd: 0,
      }),
      rec("r5", new Date(hourStart.getTime() - 3_600_000), { instanceId: "other" }),
    ]);
  });
  afterAll(async () => {
    await srv?.close();
  });

  it("aggregates usage by dimension and time bucket", async () => {
    const c = srv.client();
    const start = timestampFromDate(new Date(hourStart.getTime() - 2 * 3_600_000));
    const end = timestampFromDate(new Date(hourStart.getTime() + 3_600_000));
    const total = await c.queryUsage({ startTime: start, endTime: end, filter: { instanceIds: ["agent"] } });
    expect(total.rows).toHaveLength(1);
    const row = total.rows[0];
    expect(row?.requests).toBe(4n);
    expect(row?.errors).toBe(1n);
    expect(row?.inputTokens).toBe(400n);
    expect(row?.costUsd).toBeCloseTo(0.5);
    expect(row?.unpricedRequests).toBe(1n);
    expect(row?.instanceId).toBe("");

    const grouped = await c.queryUsage({
      startTime: start,
      endTime: end,
      groupBy: [UsageDimension.INSTANCE, UsageDimension.PROVIDER],
      bucket: TimeBucket.HOUR,
    });
    const summary = grouped.rows.map((r) => [r.bucketStart?.seconds, r.instanceId, r.providerId, r.requests]);
    const h = BigInt(hourStart.getTime() / 1000);
    expect(summary).toEqual([
      [h - 3600n, "other", "openai", 1n],
      [h, "agent", "anthropic", 1n],
      [h, "agent", "openai", 3n],
    ]);
    const byKey = await c.queryUsage({
      startTime: start,
      endTime: end,
      groupBy: [UsageDimension.KEY],
      filter: { models: ["gpt-4o"] },
    });
    const b = byKey.rows.find((r) => r.keyId === "key_b");
    expect(b?.latencyP50Ms).toBe(150);

    expect((await failure(c.queryUsage({ startTime: end, endTime: start }))).message).toBe(
      "start_time: must be before end_time",
    );
    expect((await failure(c.queryUsage({ groupBy: [UsageDimension.UNSPECIFIED] }))).message).toMatch(
      /^group_by\[0\]: /,
    );
    const wide = await failure(
      c.queryUsage({ startTime: timestampFromDate(new Date(0)), bucket: TimeBucket.MINUTE }),
    );
    expect(wide.message).toMatch(/^bucket: /);
  });

  it("lists requests newest first with pagination and filters", async () => {
    const c = srv.client();
    const ids: string[] = [];
    let token = "";
    do {
      const page = await c.listRequests({ pageSize: 2, pageToken: token });
      ids.push(...page.requests.map((r) => r.id));
      token = page.nextPageToken;
    } while (token);
    expect(ids).toEqual(["r4", "r3", "r2", "r1", "r5"]);
    const errors = await c.listRequests({ errorsOnly: true });
    expect(errors.requests.map((r) => [r.id, r.errorClass, r.statusCode])).toEqual([
      ["r4", "rate_limited", 429],
    ]);
    const anth = await c.listRequests({ filter: { providerIds: ["anthropic"] } });
    expect(anth.requests.map((r) => r.id)).toEqual(["r3"]);
    expect(anth.requests[0]?.costUsd).toBeUndefined();
    const got = await c.getRequest({ id: "r1" });
    expect(got.request?.costUsd).toBe(0.25);
    expect(got.request?.ttfbMs).toBe(10);
    expect(got.request?.stream).toBe(true);
    expect(got.request?.capture).toBeUndefined();
    expect((await failure(c.getRequest({ id: "nope" }))).code).toBe(Code.NotFound);
    expect(
      (await failure(c.listRequests({ pageToken: "eyJrIjoicmVxdWVzdHMiLCJ2IjpbImJhZCIsIngiXX0" }))).code,
    ).toBe(Code.InvalidArgument);
  });

  it("streams completed requests to watchers, filtered", async () => {
    const runtime = srv.runtime;
    if (!runtime) throw new Error("local runtime expected");
    const abort = new AbortController();
    const stream = srv.client().watchRequests({ statuses: ["5xx"] }, { signal: abort.signal });
    const it = stream[Symbol.asyncIterator]();
    // The first message confirms the subscription.
    const confirmation = await it.next();
    expect(confirmation.value?.event).toEqual({ case: "missed", value: 0n });
    const first = it.next();
    runtime.publish(rec("live-ok", new Date()));
    runtime.publish(
      rec("live-err", new Date(), {
        statusCode: 502,
        errorClass: "upstream_error",
        capture: { requestBody: "SECRET-PROMPT", responseBody: "", truncated: false },
      }),
    );
    const got = await first;
    expect(got.done).toBe(false);
    const ev = got.value?.event;
    expect(ev?.case).toBe("record");
    if (ev?.case === "record") {
      expect(ev.value.id).toBe("live-err");
      // The bootstrap token has the admin role: it may see captured bodies.
      expect(ev.value.capture?.requestBody).toBe("SECRET-PROMPT");
    }
    abort.abort();
    await expect(it.next()).rejects.toThrow();
    const badStream = srv.client().watchRequests({ statuses: ["bad status!"] });
    const badStatus = await failure(badStream[Symbol.asyncIterator]().next());
    expect(badStatus.code).toBe(Code.InvalidArgument);
    expect(badStatus.message).toMatch(/^statuses\[0\]: /);
  });

  it("counts records a slow watcher missed", async () => {
    const hub = createLiveHub({ bufferSize: 2 });
    const abort = new AbortController();
    const sub = hub.watch({}, abort.signal)[Symbol.asyncIterator]();
    for (const id of ["a", "b", "c", "d"]) hub.publish(rec(id, new Date()));
    expect((await sub.next()).value).toEqual({ missed: 2 });
    // The oldest records are the ones dropped: a live feed keeps the newest.
    expect((await sub.next()).value).toMatchObject({ record: { id: "c" } });
    expect((await sub.next()).value).toMatchObject({ record: { id: "d" } });
    abort.abort();
    expect((await sub.next()).done).toBe(true);
    expect(hub.watchers()).toBe(0);
  });

  it("reports limit status for an instance or a key", async () => {
    const c = srv.client();
    const inst = await c.getLimitStatus({ instanceId: "agent" });
    expect(inst.rateLimit?.requestsPerMinute).toBe(5n);
    expect(inst.budgets[0]?.budget?.window).toBe(BudgetWindow.TOTAL);
    expect(inst.budgets[0]?.spentUsd).toBeCloseTo(0.5);
    const { key } = await c.createKey({
      instanceId: "agent",
      budgets: [{ window: BudgetWindow.DAILY, limitUsd: 1 }],
    });
    const ks = await c.getLimitStatus({ keyId: key?.id ?? "" });
    expect(ks.budgets[0]?.spentUsd).toBe(0);
    expect(ks.budgets[0]?.resetsAt).toBeDefined();
    expect((await failure(c.getLimitStatus({}))).code).toBe(Code.InvalidArgument);
    expect((await failure(c.getLimitStatus({ instanceId: "agent", keyId: "k" }))).code).toBe(
      Code.InvalidArgument,
    );
    expect((await failure(c.getLimitStatus({ keyId: "key_missing" }))).code).toBe(Code.NotFound);
  });

  it("lists config routes read-only and manages API routes", async () => {
    const c = srv.client();
    const before = await c.listRoutes({});
    expect(before.strategy).toBe("fallback");
    expect(before.fallbackChain).toEqual(["anthropic", "openai"]);
    expect(before.defaultProviderId).toBe("openai");
    expect(before.routes.map((r) => [r.id, r.priority, r.source])).toEqual([
      ["config-1", 10, RouteSource.CONFIG],
      ["config-2", 20, RouteSource.CONFIG],
    ]);
    expect(before.routes[0]?.match?.maxTokens).toBe(1000n);

    const created = await c.createRoute({
      route: {
        priority: 15,
        match: { tag: "bulk", model: "gpt-*" },
        providerId: "anthropic",
        model: "claude-haiku",
      },
    });
    expect(created.route?.source).toBe(RouteSource.API);
    const id = created.route?.id ?? "";
    expect(id).toMatch(/^route_/);
    const after = await c.listRoutes({});
    expect(after.routes.map((r) => r.id)).toEqual(["config-1", id, "config-2"]);

    expect((await failure(c.deleteRoute({ id: "config-1" }))).code).toBe(Code.FailedPrecondition);
    expect(
      (await failure(c.createRoute({ route: { providerId: "ghost", match: { default: true } } }))).message,
    ).toBe('route.provider_id: unknown provider "ghost"');
    expect((await failure(c.createRoute({ route: { providerId: "openai" } }))).message).toMatch(
      /^route\.match: /,
    );
    expect(
      (await failure(c.createRoute({ route: { id, providerId: "openai", match: { default: true } } }))).code,
    ).toBe(Code.AlreadyExists);
    await c.deleteRoute({ id });
    expect((await failure(c.deleteRoute({ id }))).code).toBe(Code.NotFound);
  });

  it("lists config aliases read-only and manages API aliases", async () => {
    const c = srv.client();
    const set = await c.setAlias({
      alias: {
        name: "smart",
        targets: [
          { providerId: "anthropic", model: "claude-sonnet" },
          { providerId: "openai", model: "gpt-4o", weight: 3 },
        ],
      },
    });
    expect(set.alias?.source).toBe(RouteSource.API);
    expect(set.alias?.targets.map((t) => t.weight)).toEqual([1, 3]);
    await c.setAlias({ alias: { name: "smart", targets: [{ providerId: "openai", model: "gpt-4o" }] } });
    const list = await c.listAliases({});
    expect(list.aliases.map((a) => [a.name, a.source, a.targets.length])).toEqual([
      ["fast", RouteSource.CONFIG, 1],
      ["smart", RouteSource.API, 1],
    ]);
    expect(
      (
        await failure(
          c.setAlias({ alias: { name: "fast", targets: [{ providerId: "openai", model: "x" }] } }),
        )
      ).code,
    ).toBe(Code.FailedPrecondition);
    expect((await failure(c.deleteAlias({ name: "fast" }))).code).toBe(Code.FailedPrecondition);
    expect(
      (await failure(c.setAlias({ alias: { name: "x", targets: [{ providerId: "nope", model: "m" }] } })))
        .message,
    ).toBe('alias.targets[0].provider_id: unknown provider "nope"');
    expect((await failure(c.setAlias({ alias: { name: "x", targets: [] } }))).message).toBe(
      "alias.targets: must have at least one target",
    );
    await c.deleteAlias({ name: "smart" });
    expect((await failure(c.deleteAlias({ name: "smart" }))).code).toBe(Code.NotFound);
  });

  it("pages the audit log newest first and filters by actor and action prefix", async () => {
    const c = srv.client();
    const actions: string[] = [];
    let token = "";
    do {
      const page = await c.listAuditEvents({ pageSize: 3, pageToken: token });
      actions.push(...page.events.map((e) => e.action));
      token = page.nextPageToken;
    } while (token);
    expect(actions).toEqual([
      "alias.delete",
      "alias.set",
      "alias.set",
      "route.delete",
      "route.create",
      "key.create",
      "instance.create",
    ]);
    const aliasOnly = await c.listAuditEvents({ action: "alias." });
    expect(aliasOnly.events).toHaveLength(3);
    expect((await c.listAuditEvents({ actor: "someone-else" })).events).toHaveLength(0);
    const later = await c.listAuditEvents({ startTime: timestampFromDate(new Date(Date.now() + 60_000)) });
    expect(later.events).toHaveLength(0);
  });
});

describe("unexpected failures", () => {
  let srv: AdminServer;
  beforeAll(async () => {
    srv = await startAdminServer({
      runtime: {
        status: () => {
          throw new Error("connection refused: password=sk-SENTINEL-in-a-driver-message");
        },
        watch: async function* () {},
        limitStatus: async () => ({}),
        probe: async () => [],
        breaker: () => undefined,
      },
    });
  });
  afterAll(async () => {
    await srv?.close();
  });

  it("become a generic Internal error and the server keeps serving", async () => {
    const f = await failure(srv.client().getStatus({}));
    expect(f).toEqual({ code: Code.Internal, message: "internal error" });
    expect((await srv.client().listInstances({})).instances).toEqual([]);
  });
});
