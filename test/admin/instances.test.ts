// Instances over real HTTP through the generated client, on PGlite and Postgres.
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BudgetWindow, CaptureMode } from "../../sdk/gen/keygate/v1/policy_pb.js";
import { BACKENDS, startAdminServer, type AdminServer } from "../helpers/admin-server.js";
import { failure } from "./rpc-util.js";

describe.each(BACKENDS)("instances on %s", (backend) => {
  let srv: AdminServer;
  beforeAll(async () => {
    srv = await startAdminServer({ backend });
  });
  afterAll(async () => {
    await srv?.close();
  });

  it("creates, reads, updates and deletes an instance, auditing each change", async () => {
    const c = srv.client();
    const created = await c.createInstance({
      instanceId: "agent-1",
      instance: {
        displayName: "Agent one",
        labels: { team: "blue" },
        policy: {
          allowedModels: ["gpt-4o", "claude-*"],
          rateLimit: { requestsPerMinute: 60n },
          budgets: [{ window: BudgetWindow.DAILY, limitUsd: 5 }],
        },
        tag: "cheap",
        captureMode: CaptureMode.METADATA,
      },
    });
    expect(created.instance?.id).toBe("agent-1");
    expect(created.instance?.policy?.rateLimit?.requestsPerMinute).toBe(60n);
    expect(created.instance?.captureMode).toBe(CaptureMode.METADATA);
    expect(created.instance?.createTime).toBeDefined();

    const got = await c.getInstance({ id: "agent-1" });
    expect(got.instance?.displayName).toBe("Agent one");
    expect(got.instance?.labels).toEqual({ team: "blue" });
    expect(got.instance?.tag).toBe("cheap");
    expect(got.instance?.policy?.budgets[0]?.limitUsd).toBe(5);

    const updated = await c.updateInstance({
      instance: {
        id: "agent-1",
        disabled: true,
        displayName: "ignored",
        policy: { rateLimit: { requestsPerMinute: 10n } },
      },
      updateMask: { paths: ["disabled", "policy.rate_limit"] },
    });
    expect(updated.instance?.disabled).toBe(true);
    expect(updated.instance?.displayName).toBe("Agent one");
    expect(updated.instance?.policy?.rateLimit?.requestsPerMinute).toBe(10n);
    expect(updated.instance?.policy?.allowedModels).toEqual(["gpt-4o", "claude-*"]);
    expect(updated.instance?.policy?.budgets).toHaveLength(1);

    // An empty mask replaces every updatable field.
    const replaced = await c.updateInstance({ instance: { id: "agent-1", displayName: "Renamed" } });
    expect(replaced.instance?.displayName).toBe("Renamed");
    expect(replaced.instance?.disabled).toBe(false);
    expect(replaced.instance?.labels).toEqual({});
    expect(replaced.instance?.policy?.allowedModels).toEqual([]);

    await c.deleteInstance({ id: "agent-1" });
    expect((await failure(c.getInstance({ id: "agent-1" }))).code).toBe(Code.NotFound);
    expect((await failure(c.deleteInstance({ id: "agent-1" }))).code).toBe(Code.NotFound);

    const audit = await c.listAuditEvents({ pageSize: 50 });
    const mine = audit.events.filter((e) => e.resource === "instances/agent-1").map((e) => e.action);
    expect(mine).toEqual([
      "instance.delete",
      "limits.update",
      "instance.update",
      "limits.update",
      "instance.update",
      "instance.create",
    ]);
    const first = audit.events.find((e) => e.action === "instance.create");
    expect(first?.actor).toBe("admin");
    expect(first?.clientIp).toMatch(/127\.0\.0\.1/);
    expect(JSON.parse(first?.detailsJson ?? "{}")).toMatchObject({ display_name: "Agent one", tag: "cheap" });
  });

  it("refuses malformed input with messages that name the field", async () => {
    const c = srv.client();
    const bad = await failure(c.createInstance({ instanceId: "Agent One" }));
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(bad.message).toBe("instance_id: must match ^[a-z0-9][a-z0-9_-]{0,62}$");
    expect((await failure(c.createInstance({ instanceId: "" }))).message).toBe("instance_id: is required");
    expect((await failure(c.createInstance({ instanceId: "x".repeat(64) }))).code).toBe(Code.InvalidArgument);
    const rl = await failure(
      c.createInstance({ instanceId: "neg", instance: { policy: { rateLimit: { tokensPerMinute: -5n } } } }),
    );
    expect(rl.message).toBe("instance.policy.rate_limit.tokens_per_minute: must be a positive integer");
    const budget = await failure(
      c.createInstance({ instanceId: "bud", instance: { policy: { budgets: [{ limitUsd: 3 }] } } }),
    );
    expect(budget.message).toMatch(/^instance\.policy\.budgets\[0\]\.window: /);
    const mismatch = await failure(c.createInstance({ instanceId: "a", instance: { id: "b" } }));
    expect(mismatch.message).toMatch(/^instance\.id: /);

    await c.createInstance({ instanceId: "dup" });
    const dup = await failure(c.createInstance({ instanceId: "dup" }));
    expect(dup.code).toBe(Code.AlreadyExists);

    const mask = await failure(
      c.updateInstance({ instance: { id: "dup" }, updateMask: { paths: ["display_name", "secret_sauce"] } }),
    );
    expect(mask.code).toBe(Code.InvalidArgument);
    expect(mask.message).toMatch(/secret_sauce/);
    expect(
      (await failure(c.updateInstance({ instance: { id: "nope" }, updateMask: { paths: ["tag"] } }))).code,
    ).toBe(Code.NotFound);
    expect((await failure(c.updateInstance({}))).message).toBe("instance: is required");
    expect((await failure(c.getInstance({ id: "" }))).message).toBe("id: is required");
  });

  it("pages through instances with opaque tokens and filters by labels", async () => {
    const c = srv.client();
    for (let i = 0; i < 5; i++) {
      await c.createInstance({
        instanceId: `page-${i}`,
        instance: { labels: { group: i % 2 ? "odd" : "even" } },
      });
    }
    const ids: string[] = [];
    let token = "";
    let pages = 0;
    do {
      const page = await c.listInstances({ pageSize: 2, pageToken: token, labels: { group: "even" } });
      expect(page.instances.length).toBeLessThanOrEqual(2);
      ids.push(...page.instances.map((i) => i.id));
      token = page.nextPageToken;
      pages++;
    } while (token);
    expect(ids).toEqual(["page-0", "page-2", "page-4"]);
    expect(pages).toBe(2);

    const all = await c.listInstances({ pageSize: 5000 });
    expect(all.instances.map((i) => i.id)).toEqual(expect.arrayContaining(["page-0", "page-1", "page-3"]));
    expect(all.nextPageToken).toBe("");
    const neg = await failure(c.listInstances({ pageSize: -1 }));
    expect(neg).toEqual({ code: Code.InvalidArgument, message: "page_size: must not be negative" });
    const garbage = await failure(c.listInstances({ pageToken: "%%%not-a-token" }));
    expect(garbage.code).toBe(Code.InvalidArgument);
    expect(garbage.message).toMatch(/^page_token: /);
    // A token from another listing is refused too.
    const keysToken = Buffer.from(JSON.stringify({ k: "keys", v: "key_x" })).toString("base64url");
    expect((await failure(c.listInstances({ pageToken: keysToken }))).code).toBe(Code.InvalidArgument);
  });
});
