// An in-memory Admin API for driving the dashboard through states a real gateway reaches only
// with a large fleet or under load (1,000 instances, breaker trips, dropped live records).
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate, timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import {
  AdminRole,
  AdminService,
  AuditEventSchema,
  BreakerState,
  InstanceSchema,
  KeyState,
  ProviderSchema,
  ProviderSource,
  RequestRecordSchema,
  TimeBucket,
  UsageDimension,
  UsageRowSchema,
  VirtualKeySchema,
  type AuditEvent,
  type Instance,
  type Provider,
  type RequestRecord,
  type UsageFilter,
  type UsageRow,
  type VirtualKey,
  type WatchRequestsRequest,
  type WatchRequestsResponse,
} from "../../sdk/index.js";

export interface UsageEntry {
  time: Date;
  instanceId: string;
  keyId: string;
  providerId: string;
  model: string;
  requests: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

type WatchEvent = WatchRequestsResponse["event"];

interface Watcher {
  request: WatchRequestsRequest;
  push(e: WatchEvent): void;
}

export interface FakeAdmin {
  routes(router: ConnectRouter): void;
  interceptor: Interceptor;
  instances: Instance[];
  keys: VirtualKey[];
  providers: Provider[];
  audit: AuditEvent[];
  usage: UsageEntry[];
  /** Every QueryUsage request received, for checking what the browser asked for. */
  usageQueries: { groupBy: UsageDimension[]; bucket: TimeBucket; filter: UsageFilter | undefined }[];
  /** Sends an event to every matching watcher. */
  emit(event: WatchEvent): void;
  /** Replaces the accepted admin token, as deleting a token on the gateway would. */
  setToken(token: string): void;
  /** Resolves once `n` live-feed watchers are connected; returns the newest watcher's request. */
  watchers(n: number): Promise<WatchRequestsRequest>;
}

const FAKE_SECRET_PREFIX = "kg_test_";

function page<T>(all: T[], pageSize: number, pageToken: string): { items: T[]; next: string } {
  const size = pageSize <= 0 ? 100 : Math.min(pageSize, 1000);
  const start = pageToken ? Number(pageToken) : 0;
  const items = all.slice(start, start + size);
  return { items, next: start + size < all.length ? String(start + size) : "" };
}

function statusClass(code: number): string {
  return `${Math.floor(code / 100)}xx`;
}

function matches(w: WatchRequestsRequest, r: RequestRecord): boolean {
  const f = w.filter;
  if (f?.instanceIds.length && !f.instanceIds.includes(r.instanceId)) return false;
  if (f?.models.length && !f.models.includes(r.requestedModel)) return false;
  if (
    w.statuses.length &&
    !w.statuses.includes(statusClass(r.statusCode)) &&
    !w.statuses.includes(r.errorClass)
  )
    return false;
  return true;
}

const BUCKET_MS: Record<TimeBucket, number> = {
  [TimeBucket.UNSPECIFIED]: 0,
  [TimeBucket.MINUTE]: 60_000,
  [TimeBucket.HOUR]: 3_600_000,
  [TimeBucket.DAY]: 86_400_000,
};

function aggregate(entries: UsageEntry[], groupBy: UsageDimension[], bucket: TimeBucket): UsageRow[] {
  const rows = new Map<string, UsageRow>();
  const step = BUCKET_MS[bucket];
  for (const e of entries) {
    const key = {
      instanceId: groupBy.includes(UsageDimension.INSTANCE) ? e.instanceId : "",
      keyId: groupBy.includes(UsageDimension.KEY) ? e.keyId : "",
      providerId: groupBy.includes(UsageDimension.PROVIDER) ? e.providerId : "",
      model: groupBy.includes(UsageDimension.MODEL) ? e.model : "",
      bucket: step ? Math.floor(e.time.getTime() / step) * step : -1,
    };
    const id = JSON.stringify(key);
    let row = rows.get(id);
    if (!row) {
      row = create(UsageRowSchema, {
        instanceId: key.instanceId,
        keyId: key.keyId,
        providerId: key.providerId,
        model: key.model,
        ...(step ? { bucketStart: timestampFromDate(new Date(key.bucket)) } : {}),
      });
      rows.set(id, row);
    }
    row.requests += BigInt(e.requests);
    row.errors += BigInt(e.errors);
    row.inputTokens += BigInt(e.inputTokens);
    row.outputTokens += BigInt(e.outputTokens);
    row.costUsd += e.costUsd;
  }
  return [...rows.values()];
}

export function createFakeAdmin(initialToken: string): FakeAdmin {
  let adminToken = initialToken;
  const watchers = new Set<Watcher>();
  const watcherWaits: { n: number; resolve(r: WatchRequestsRequest): void }[] = [];
  let lastWatch: WatchRequestsRequest | undefined;
  let seq = 0;
  const now = () => timestampFromDate(new Date());

  const fake: FakeAdmin = {
    instances: [],
    keys: [],
    providers: [],
    audit: [],
    usage: [],
    usageQueries: [],
    interceptor: (next) => async (req) => {
      if (req.header.get("authorization") !== `Bearer ${adminToken}`) {
        throw new ConnectError("invalid admin token", Code.Unauthenticated);
      }
      return next(req);
    },
    setToken(token) {
      adminToken = token;
    },
    emit(event) {
      for (const w of watchers) {
        if (event.case !== "record" || matches(w.request, event.value)) w.push(event);
      }
    },
    watchers(n) {
      if (watchers.size >= n && lastWatch) return Promise.resolve(lastWatch);
      return new Promise((resolve) => watcherWaits.push({ n, resolve }));
    },
    routes(router) {
      router.service(AdminService, {
        getStatus: () => ({
          version: "0.1.0-test",
          replicaId: "replica-a",
          database: { kind: "pglite", configured: true, ok: true },
          redis: { kind: "redis", configured: true, ok: false, message: "connection refused" },
          callerName: "bootstrap",
          callerRole: AdminRole.ADMIN,
        }),
        listInstances: (req) => {
          const wanted = Object.entries(req.labels);
          const all = fake.instances.filter((i) => wanted.every(([k, v]) => i.labels[k] === v));
          const p = page(all, req.pageSize, req.pageToken);
          return { instances: p.items, nextPageToken: p.next };
        },
        getInstance: (req) => {
          const instance = fake.instances.find((i) => i.id === req.id);
          if (!instance) throw new ConnectError(`instance ${req.id} not found`, Code.NotFound);
          return { instance };
        },
        createInstance: (req) => {
          if (fake.instances.some((i) => i.id === req.instanceId)) {
            throw new ConnectError(`instance ${req.instanceId} already exists`, Code.AlreadyExists);
          }
          const instance = create(InstanceSchema, {
            displayName: req.instance?.displayName ?? "",
            labels: req.instance?.labels ?? {},
            id: req.instanceId,
            createTime: now(),
            updateTime: now(),
          });
          fake.instances.push(instance);
          return { instance };
        },
        updateInstance: (req) => {
          const instance = fake.instances.find((i) => i.id === req.instance?.id);
          if (!instance || !req.instance) throw new ConnectError("instance not found", Code.NotFound);
          if (req.updateMask?.paths.includes("disabled")) instance.disabled = req.instance.disabled;
          return { instance };
        },
        listKeys: (req) => {
          const all = fake.keys.filter(
            (k) => k.instanceId === req.instanceId && (req.includeRevoked || k.state !== KeyState.REVOKED),
          );
          const p = page(all, req.pageSize, req.pageToken);
          return { keys: p.items, nextPageToken: p.next };
        },
        createKey: (req) => {
          seq += 1;
          const secret = `${FAKE_SECRET_PREFIX}${seq}_${"x".repeat(40)}`;
          const key = create(VirtualKeySchema, {
            id: `key_${seq}`,
            instanceId: req.instanceId,
            displayName: req.displayName,
            allowedModels: req.allowedModels,
            prefix: secret.slice(0, 12),
            state: KeyState.ACTIVE,
            createTime: now(),
          });
          fake.keys.push(key);
          return { key, secret };
        },
        revokeKey: (req) => {
          const key = fake.keys.find((k) => k.id === req.id);
          if (!key) throw new ConnectError("key not found", Code.NotFound);
          key.state = KeyState.REVOKED;
          key.revokedAt = now();
          return { key };
        },
        rotateKey: (req) => {
          const key = fake.keys.find((k) => k.id === req.id);
          if (!key) throw new ConnectError("key not found", Code.NotFound);
          seq += 1;
          const secret = `${FAKE_SECRET_PREFIX}${seq}_${"y".repeat(40)}`;
          key.prefix = secret.slice(0, 12);
          return { key, secret };
        },
        listProviders: (req) => {
          const p = page(fake.providers, req.pageSize, req.pageToken);
          return { providers: p.items, nextPageToken: p.next };
        },
        probeProviders: (req) => ({
          results: fake.providers
            .filter((p) => req.providerIds.length === 0 || req.providerIds.includes(p.id))
            .map((p) => {
              const open = p.breaker?.state === BreakerState.OPEN;
              return {
                providerId: p.id,
                ok: !open,
                latencyMs: open ? 5000 : 42,
                statusCode: open ? 503 : 200,
                message: open ? "upstream unavailable" : "",
              };
            }),
        }),
        queryUsage: (req) => {
          fake.usageQueries.push({ groupBy: req.groupBy, bucket: req.bucket, filter: req.filter });
          const start = req.startTime ? timestampMs(req.startTime) : 0;
          const end = req.endTime ? timestampMs(req.endTime) : Date.now();
          const f = req.filter;
          const entries = fake.usage.filter(
            (e) =>
              e.time.getTime() >= start &&
              e.time.getTime() < end &&
              (!f?.instanceIds.length || f.instanceIds.includes(e.instanceId)) &&
              (!f?.models.length || f.models.includes(e.model)) &&
              (!f?.providerIds.length || f.providerIds.includes(e.providerId)),
          );
          return { rows: aggregate(entries, req.groupBy, req.bucket) };
        },
        listAuditEvents: (req) => {
          const all = fake.audit.filter(
            (e) => (!req.actor || e.actor === req.actor) && (!req.action || e.action.startsWith(req.action)),
          );
          const p = page(all, req.pageSize, req.pageToken);
          return { events: p.items, nextPageToken: p.next };
        },
        async *watchRequests(req, ctx) {
          const queue: WatchEvent[] = [];
          let wake: (() => void) | undefined;
          const w: Watcher = {
            request: req,
            push(e) {
              queue.push(e);
              wake?.();
            },
          };
          watchers.add(w);
          lastWatch = req;
          for (const wait of watcherWaits.splice(0)) {
            if (watchers.size >= wait.n) wait.resolve(req);
            else watcherWaits.push(wait);
          }
          const aborted = new Promise<void>((resolve) =>
            ctx.signal.addEventListener("abort", () => resolve()),
          );
          try {
            while (!ctx.signal.aborted) {
              const e = queue.shift();
              if (e) {
                yield { event: e };
                continue;
              }
              await Promise.race([new Promise<void>((resolve) => (wake = resolve)), aborted]);
            }
          } finally {
            watchers.delete(w);
          }
        },
      });
    },
  };
  return fake;
}

/** A fleet-sized data set: `instances` instances, usage spread over the last 24 hours. */
export function seedFleet(fake: FakeAdmin, instances: number, now: Date): void {
  const models = ["gpt-4o", "claude-3-5-sonnet-20241022", "gemini-1.5-pro", "llama3"];
  const providers = ["openai", "anthropic", "google", "ollama"];
  for (let i = 0; i < instances; i++) {
    const id = `agent-${String(i).padStart(4, "0")}`;
    fake.instances.push(
      create(InstanceSchema, {
        id,
        displayName: `Agent ${i}`,
        labels: { team: i % 2 ? "blue" : "red" },
        disabled: i % 17 === 0,
        createTime: timestampFromDate(new Date(now.getTime() - 86_400_000)),
      }),
    );
    // Instance i gets weight i, so the top of the ranking is known: the highest ids.
    for (let h = 0; h < 24; h += 3) {
      const m = (i + h) % models.length;
      fake.usage.push({
        time: new Date(now.getTime() - h * 3_600_000 - 60_000),
        instanceId: id,
        keyId: `key-${i}`,
        providerId: providers[m]!,
        model: models[m]!,
        requests: i + 1,
        errors: i % 5 === 0 ? 1 : 0,
        inputTokens: (i + 1) * 100,
        outputTokens: (i + 1) * 40,
        costUsd: (i + 1) * 0.01,
      });
    }
  }
  fake.providers.push(
    create(ProviderSchema, {
      id: "openai",
      type: "openai",
      models: ["gpt-4o", "gpt-4o-mini"],
      credentialFingerprint: "sk-…abcd",
      source: ProviderSource.CONFIG,
      default: true,
      breaker: { state: BreakerState.CLOSED },
    }),
    create(ProviderSchema, {
      id: "anthropic",
      type: "anthropic",
      models: ["claude-3-5-sonnet-20241022"],
      credentialFingerprint: "sk-ant-…wxyz",
      source: ProviderSource.API,
      breaker: { state: BreakerState.OPEN, recentFailures: 7, retryAt: timestampFromDate(now) },
    }),
  );
  for (let i = 0; i < 120; i++) {
    fake.audit.push(
      create(AuditEventSchema, {
        id: `ev-${i}`,
        time: timestampFromDate(new Date(now.getTime() - i * 60_000)),
        actor: i % 3 === 0 ? "ci" : "bootstrap",
        actorRole: AdminRole.ADMIN,
        action: i % 2 ? "key.create" : "instance.update",
        resource: `instances/agent-${String(i).padStart(4, "0")}`,
        clientIp: "127.0.0.1",
        detailsJson: JSON.stringify({ field: "disabled", index: i }),
      }),
    );
  }
}

export function record(
  init: MessageInitShape<typeof RequestRecordSchema> & { instanceId: string; statusCode: number },
): RequestRecord {
  return create(RequestRecordSchema, {
    id: `req-${Math.random().toString(36).slice(2)}`,
    time: timestampFromDate(new Date()),
    requestedModel: "gpt-4o",
    servedModel: "gpt-4o",
    providerId: "openai",
    inputTokens: 12n,
    outputTokens: 5n,
    costUsd: 0.0004,
    latencyMs: 120,
    api: "openai.chat",
    ...init,
  });
}
