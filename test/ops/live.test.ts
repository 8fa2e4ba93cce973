// The live request feed as a monitoring plugin and an operator at a shell use it: WatchRequests
// delivers every completed request's record, filtered by instance, model and status class; a
// subscriber that stops reading is told what it missed and never holds requests up; and
// `gwctl requests --follow --output json` prints each record as it arrives.
import { request } from "undici";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../../server/src/log/logger.js";
import { createLiveHub, type LiveEvent } from "../../server/src/usage/live.js";
import type { UsageRecord } from "../../server/src/usage/record.js";
import { buildBinaries } from "../cli/harness.js";
import { MODELS, startFacade, type FacadeEnv } from "../facade/harness.js";
import {
  at,
  freshDatabase,
  chat,
  follow,
  followWithGwctl,
  instanceWithKey,
  waitFor,
  waitForWatchers,
  watchers,
  type Feed,
} from "./harness.js";
import type { TestDatabase } from "../helpers/pg.js";
import { usageRecord } from "../helpers/records.js";

let db: TestDatabase;
let env: FacadeEnv;

beforeAll(async () => {
  db = await freshDatabase("kg_ops_live");
  env = await startFacade({
    databaseUrl: db.url,
    config: { routing: { retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 } } },
  });
  await buildBinaries();
});
afterAll(async () => {
  await env?.close();
  await db?.drop();
});
beforeEach(async () => {
  env.resetFake();
  await waitForWatchers(env.gw.url, 0);
});

describe("WatchRequests on a gateway", () => {
  it("delivers each completed request's record, filtered by instance, model and status class", async () => {
    const a = await instanceWithKey(env.admin, { prefix: "live-a" });
    const b = await instanceWithKey(env.admin, { prefix: "live-b" });
    const feeds: Record<string, Feed> = {
      all: follow(env.admin),
      instance: follow(env.admin, { filter: { instanceIds: [a.instanceId] } }),
      model: follow(env.admin, { filter: { models: [MODELS.openai] } }),
      status: follow(env.admin, { statuses: ["5xx"] }),
    };
    try {
      await waitForWatchers(env.gw.url, 4);
      const sent: { id: string; status: number }[] = [];
      const send = async (key: { secret: string }, model: string, failUpstream = false) => {
        if (failUpstream) env.fake.fail({ status: 503, on: "openai.chat" });
        const r = await chat(env.gw.url, key.secret, model, `to ${model}`);
        sent.push({ id: r.id, status: r.status });
        return r.id;
      };
      const r1 = await send(a, MODELS.echo);
      const r2 = await send(b, MODELS.openai);
      const r3 = await send(b, MODELS.openai, true);
      const r4 = await send(a, "no-such-model");
      // The last one matches every filter, so each feed is complete once it has arrived.
      const r5 = await send(a, MODELS.openai, true);
      expect(sent.map((s) => s.status)).toEqual([200, 200, 503, 404, 503]);

      const expected: Record<string, string[]> = {
        all: [r1, r2, r3, r4, r5],
        instance: [r1, r4, r5],
        model: [r2, r3, r5],
        status: [r3, r5],
      };
      for (const [name, feed] of Object.entries(feeds)) {
        const got = await feed.until(r5);
        expect(
          got.map((r) => r.id),
          name,
        ).toEqual(expected[name]);
        expect(feed.missed, name).toBe(0);
      }
      const byId = new Map(feeds.all!.records.map((r) => [r.id, r]));
      expect(byId.get(r1)).toMatchObject({
        instanceId: a.instanceId,
        requestedModel: MODELS.echo,
        statusCode: 200,
      });
      expect(byId.get(r2)).toMatchObject({
        instanceId: b.instanceId,
        providerId: "openai",
        statusCode: 200,
        inputTokens: 10n,
        outputTokens: 20n,
      });
      expect(byId.get(r3)).toMatchObject({ statusCode: 503, errorClass: "upstream_error" });
      expect(byId.get(r4)).toMatchObject({ statusCode: 404 });
      // The feed and the stored history agree.
      const stored = await waitFor(
        "r5 stored",
        async () => (await env.admin.getRequest({ id: r5 }).catch(() => undefined))?.request,
      );
      expect(stored.statusCode).toBe(byId.get(r5)?.statusCode);
      expect(stored.latencyMs).toBe(byId.get(r5)?.latencyMs);
    } finally {
      for (const f of Object.values(feeds)) f.stop();
    }
  });

  it("the first message (missed = 0) confirms the subscription: a request sent right after it is on the feed", async () => {
    const k = await instanceWithKey(env.admin, { prefix: "live-ready" });
    for (let i = 0; i < 5; i++) {
      const feed = follow(env.admin, { filter: { instanceIds: [k.instanceId] } });
      try {
        expect(await feed.ready).toEqual({ case: "missed", value: 0n });
        const r = await chat(env.gw.url, k.secret, MODELS.echo, `right away ${i}`);
        expect((await feed.until(r.id, 5_000)).map((x) => x.id)).toEqual([r.id]);
      } finally {
        feed.stop();
      }
      await waitForWatchers(env.gw.url, 0);
    }
  });

  it("a subscriber that leaves, even right after the confirmation, is forgotten", async () => {
    // One that never gets a record, one that does.
    const early = follow(env.admin, { filter: { instanceIds: ["nobody-sends-as-this"] } });
    await early.ready;
    const late = follow(env.admin);
    await late.ready;
    const k = await instanceWithKey(env.admin, { prefix: "live-leave" });
    const r = await chat(env.gw.url, k.secret, MODELS.echo, "one record for the late one");
    await late.until(r.id);
    expect(await watchers(env.gw.url)).toBe(2);
    early.stop();
    late.stop();
    await waitForWatchers(env.gw.url, 0);
  });

  it("a subscriber that stops reading holds no request up, and later gets every record or a missed count", async () => {
    const k = await instanceWithKey(env.admin, { prefix: "live-stall" });
    const envelope = Buffer.from(JSON.stringify({ filter: { instanceIds: [k.instanceId] } }));
    const head = Buffer.alloc(5);
    head.writeUInt32BE(envelope.length, 1);
    // A raw Connect streaming call whose body is not read: the socket's buffers fill and stay full.
    const stalled = await request(`${env.gw.url}/keygate.v1.AdminService/WatchRequests`, {
      method: "POST",
      headers: {
        "content-type": "application/connect+json",
        "connect-protocol-version": "1",
        authorization: `Bearer ${env.gw.adminToken}`,
      },
      body: Buffer.concat([head, envelope]),
    });
    expect(stalled.statusCode).toBe(200);
    await waitForWatchers(env.gw.url, 1);

    // Big records (a long user agent is part of each) fill the stalled connection quickly.
    const userAgent = `agent/${"x".repeat(8000)}`;
    const total = 300;
    const started = Date.now();
    let next = 0;
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < total) {
          next++;
          const res = await fetch(`${env.gw.url}/v1/chat/completions`, {
            method: "POST",
            headers: {
              authorization: `Bearer ${k.secret}`,
              "content-type": "application/json",
              "user-agent": userAgent,
            },
            body: JSON.stringify({ model: MODELS.echo, messages: [{ role: "user", content: "hi" }] }),
          });
          await res.arrayBuffer();
          statuses.push(res.status);
        }
      }),
    );
    const elapsed = Date.now() - started;
    expect(statuses.filter((s) => s === 200)).toHaveLength(total);
    // The subscriber is still there, still not reading.
    expect(await watchers(env.gw.url)).toBe(1);
    console.log(`${total} requests with a stalled subscriber: ${elapsed} ms`);

    // Now read: every record arrives, or is counted as missed; none vanishes silently.
    let buffered = Buffer.alloc(0);
    let records = 0;
    let missed = 0;
    const reader = (async () => {
      for await (const chunk of stalled.body) {
        buffered = Buffer.concat([buffered, chunk as Buffer]);
        while (buffered.length >= 5) {
          const len = buffered.readUInt32BE(1);
          if (buffered.length < 5 + len) break;
          const msg = JSON.parse(buffered.subarray(5, 5 + len).toString("utf8")) as unknown;
          buffered = buffered.subarray(5 + len);
          if (at(msg, "record") !== undefined) records++;
          const m = at(msg, "missed");
          if (m !== undefined) missed += Number(m);
        }
        if (records + missed >= total) break;
      }
    })();
    await waitFor(
      "every record delivered or counted",
      () => (records + missed >= total ? true : undefined),
      20_000,
    );
    expect(records + missed).toBe(total);
    stalled.body.destroy();
    await reader.catch(() => undefined);
  });
});

describe("the live hub", () => {
  const rec = (id: string): UsageRecord => usageRecord({ id, instanceId: "i", keyId: "k" });

  it("tells a subscriber that stopped reading how many records it missed, keeping the newest", async () => {
    const hub = createLiveHub({
      bufferSize: 2,
      logger: createLogger({ level: "silent", requests: false, includePrompts: false }),
    });
    const abort = new AbortController();
    const slow = hub.watch({}, abort.signal)[Symbol.asyncIterator]();
    const show = (e: IteratorResult<LiveEvent>) =>
      e.done ? "done" : "record" in e.value ? e.value.record.id : `missed ${e.value.missed}`;
    // Subscribed, then it reads nothing while five records pass.
    const first = slow.next();
    for (const id of ["r1", "r2", "r3", "r4", "r5"]) hub.publish(rec(id));
    expect(show(await first)).toBe("missed 3");
    expect(show(await slow.next())).toBe("r4");
    expect(show(await slow.next())).toBe("r5");

    // Publishing never waits for it: 100 000 more records go by synchronously, counted, not kept.
    const pending = slow.next();
    for (let i = 0; i < 100_000; i++) hub.publish(rec(`bulk-${i}`));
    expect(show(await pending)).toBe("missed 99998");
    expect(show(await slow.next())).toBe("bulk-99998");
    expect(show(await slow.next())).toBe("bulk-99999");
    expect(hub.watchers()).toBe(1);

    const parked = slow.next();
    abort.abort();
    expect(show(await parked)).toBe("done");
    expect(hub.watchers()).toBe(0);
    await hub.close();
  });

  it("on close, hands each subscriber what it holds, missed count included, then ends its feed", async () => {
    const hub = createLiveHub({
      bufferSize: 2,
      logger: createLogger({ level: "silent", requests: false, includePrompts: false }),
    });
    const feed = hub.watch({}, new AbortController().signal)[Symbol.asyncIterator]();
    const show = (e: IteratorResult<LiveEvent>) =>
      e.done ? "done" : "record" in e.value ? e.value.record.id : `missed ${e.value.missed}`;
    for (const id of ["r1", "r2", "r3"]) hub.publish(rec(id));
    await hub.close();
    // Published after close: not on the feed.
    hub.publish(rec("late"));
    const seen: string[] = [];
    for (let e = await feed.next(); ; e = await feed.next()) {
      seen.push(show(e));
      if (e.done) break;
    }
    expect(seen).toEqual(["missed 1", "r2", "r3", "done"]);
    expect(hub.watchers()).toBe(0);
  });
});

describe("gwctl requests --follow --output json", () => {
  it("prints each record as one JSON line as it arrives; --errors prints only failures", async () => {
    const k = await instanceWithKey(env.admin, { prefix: "live-cli" });
    const lines = (args: string[]) => followWithGwctl(env.gw.url, env.gw.adminToken, k.instanceId, args);
    const everything = lines([]);
    const errors = lines(["--errors"]);
    try {
      await waitForWatchers(env.gw.url, 2);
      const ok1 = await chat(env.gw.url, k.secret, MODELS.echo, "first");
      env.fake.fail({ status: 500, on: "openai.chat" });
      const fail1 = await chat(env.gw.url, k.secret, MODELS.openai, "second");
      const ok2 = await chat(env.gw.url, k.secret, MODELS.openai, "third");
      const fail2 = await chat(env.gw.url, k.secret, "no-such-model", "fourth");
      expect([ok1.status, fail1.status, ok2.status, fail2.status]).toEqual([200, 500, 200, 404]);

      // Every line is one record (gwctl hides the subscription's missed = 0 confirmation).
      const ids = (out: string[]) => out.map((l) => at(JSON.parse(l) as unknown, "record", "id"));
      await waitFor("4 lines from --follow", () => (everything.out.length >= 4 ? true : undefined));
      await waitFor("2 lines from --follow --errors", () => (errors.out.length >= 2 ? true : undefined));
      expect(ids(everything.out), everything.out.join("\n")).toEqual([ok1.id, fail1.id, ok2.id, fail2.id]);
      expect(ids(errors.out)).toEqual([fail1.id, fail2.id]);
      const first = JSON.parse(everything.out[0]!) as unknown;
      expect(at(first, "record", "instanceId")).toBe(k.instanceId);
      expect(at(first, "record", "requestedModel")).toBe(MODELS.echo);
      expect(at(first, "record", "statusCode")).toBe(200);
      const third = JSON.parse(everything.out[2]!) as unknown;
      expect(at(third, "record", "inputTokens")).toBe("10");
      expect(at(third, "record", "outputTokens")).toBe("20");
    } finally {
      for (const f of [everything, errors]) f.child.kill("SIGINT");
    }
    expect(await everything.exited, everything.err()).toBe(0);
    expect(await errors.exited, errors.err()).toBe(0);
    expect(everything.err() + errors.err()).not.toContain(k.secret);
  });
});
