// Usage and requests: QueryUsage, ListRequests, GetRequest, WatchRequests, GetLimitStatus.
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { AdminService } from "../../../sdk/gen/keygate/v1/admin_service_pb.js";
import { TimeBucket, UsageDimension, type UsageFilter } from "../../../sdk/gen/keygate/v1/usage_pb.js";
import { getInstance } from "../store/instances.js";
import { getKey } from "../store/keys.js";
import { getRequest, listRequests } from "../store/requests.js";
import type { UsageFilter as StoreFilter } from "../store/usage-filter.js";
import { queryUsage, type UsageBucket, type UsageDimension as Dim } from "../store/usage-query.js";
import type { UsageRecord } from "../usage/record.js";
import { maySeeCaptures } from "./auth.js";
import { liveRequestMessage, requestMessage, usageRowMessage } from "./convert-usage.js";
import { principalOf, type Svc } from "./deps.js";
import { invalid, notFound, shuttingDown } from "./errors.js";
import { decodeTimeToken, encodeTimeToken, pageSize } from "./page.js";
import type { WatchFilter } from "./runtime.js";
import { checkRequired } from "./validate.js";

const DIMENSIONS: Partial<Record<UsageDimension, Dim>> = {
  [UsageDimension.INSTANCE]: "instance",
  [UsageDimension.KEY]: "key",
  [UsageDimension.PROVIDER]: "provider",
  [UsageDimension.MODEL]: "model",
};
const BUCKETS: Partial<Record<TimeBucket, UsageBucket>> = {
  [TimeBucket.MINUTE]: "minute",
  [TimeBucket.HOUR]: "hour",
  [TimeBucket.DAY]: "day",
};
const DAY_MS = 86_400_000;
/** Largest span per bucket width, so a query cannot ask for millions of rows. */
const MAX_SPAN_MS: Record<UsageBucket, number> = {
  minute: 7 * DAY_MS,
  hour: 400 * DAY_MS,
  day: 20 * 366 * DAY_MS,
};

function toFilter(f: UsageFilter | undefined): StoreFilter {
  return {
    instanceIds: f?.instanceIds ?? [],
    keyIds: f?.keyIds ?? [],
    providerIds: f?.providerIds ?? [],
    models: f?.models ?? [],
  };
}

function time(field: string, t: Timestamp | undefined): Date | undefined {
  if (!t) return undefined;
  const d = timestampDate(t);
  if (Number.isNaN(d.getTime())) throw invalid(field, "not a valid time");
  return d;
}

const STATUS_CLASS = /^[1-5]xx$/;

/** Whether a live record passes a WatchRequests filter. */
export function matchesWatch(f: WatchFilter, r: UsageRecord): boolean {
  if (f.instanceIds.length && !f.instanceIds.includes(r.instanceId)) return false;
  if (f.keyIds.length && !f.keyIds.includes(r.keyId)) return false;
  if (f.providerIds.length && !f.providerIds.includes(r.providerId)) return false;
  if (f.models.length && !f.models.includes(r.requestedModel) && !f.models.includes(r.servedModel))
    return false;
  if (f.statuses.length) {
    const cls = `${Math.floor(r.statusCode / 100)}xx`;
    if (!f.statuses.some((s) => s === cls || (r.errorClass !== "" && s === r.errorClass))) return false;
  }
  return true;
}

export function usageService(svc: Svc): Partial<ServiceImpl<typeof AdminService>> {
  return {
    async queryUsage(req) {
      const end = time("end_time", req.endTime) ?? svc.now();
      const start = time("start_time", req.startTime) ?? new Date(end.getTime() - DAY_MS);
      if (start >= end) throw invalid("start_time", "must be before end_time");
      const groupBy = req.groupBy.map((d, i) => {
        const dim = DIMENSIONS[d];
        if (!dim) throw invalid(`group_by[${i}]`, "must be INSTANCE, KEY, PROVIDER or MODEL");
        return dim;
      });
      let bucket: UsageBucket | undefined;
      if (req.bucket !== TimeBucket.UNSPECIFIED) {
        bucket = BUCKETS[req.bucket];
        if (!bucket) throw invalid("bucket", "must be MINUTE, HOUR or DAY");
        if (end.getTime() - start.getTime() > MAX_SPAN_MS[bucket]) {
          throw invalid("bucket", `${bucket} buckets cover at most ${MAX_SPAN_MS[bucket] / DAY_MS} days`);
        }
      }
      const rows = await queryUsage(svc.db, {
        start,
        end,
        filter: toFilter(req.filter),
        groupBy,
        ...(bucket ? { bucket } : {}),
      });
      return { rows: rows.map(usageRowMessage) };
    },

    async listRequests(req) {
      const limit = pageSize(req.pageSize);
      const before = decodeTimeToken("requests", req.pageToken);
      const start = time("start_time", req.startTime);
      const end = time("end_time", req.endTime);
      const page = await listRequests(svc.db, {
        limit,
        ...(before ? { before } : {}),
        filter: toFilter(req.filter),
        ...(start ? { start } : {}),
        ...(end ? { end } : {}),
        errorsOnly: req.errorsOnly,
      });
      return {
        requests: page.rows.map((r) => requestMessage(r)),
        nextPageToken: encodeTimeToken("requests", page.next),
      };
    },

    async getRequest(req, ctx) {
      checkRequired("id", req.id);
      const withCapture = maySeeCaptures(principalOf(ctx).role);
      const found = await getRequest(svc.db, req.id, { withCapture, now: svc.now() });
      if (!found) throw notFound("request", req.id);
      return { request: requestMessage(found.record, found.capture) };
    },

    async *watchRequests(req, ctx) {
      req.statuses.forEach((s, i) => {
        if (!STATUS_CLASS.test(s) && !/^[a-z][a-z0-9_]{0,63}$/.test(s)) {
          throw invalid(`statuses[${i}]`, 'must be "2xx", "4xx", "5xx" or an error class');
        }
      });
      const f = req.filter;
      const filter: WatchFilter = {
        instanceIds: [...(f?.instanceIds ?? [])],
        keyIds: [...(f?.keyIds ?? [])],
        providerIds: [...(f?.providerIds ?? [])],
        models: [...(f?.models ?? [])],
        statuses: [...req.statuses],
      };
      const withCapture = maySeeCaptures(principalOf(ctx).role);
      const stream = svc.runtime.watch(filter, ctx.signal);
      // The subscription is registered (and, with Redis, subscribed): say so, so clients know they are live.
      await stream.ready;
      yield { event: { case: "missed", value: 0n } };
      for await (const ev of stream) {
        if ("missed" in ev) {
          yield { event: { case: "missed", value: BigInt(ev.missed) } };
        } else if (matchesWatch(filter, ev.record)) {
          yield { event: { case: "record", value: liveRequestMessage(ev.record, withCapture) } };
        }
      }
      // The feed only ends by itself when the gateway shuts down; Unavailable tells clients to retry.
      if (!ctx.signal.aborted) throw shuttingDown();
    },

    async getLimitStatus(req) {
      if (Boolean(req.instanceId) === Boolean(req.keyId)) {
        throw invalid("instance_id", "exactly one of instance_id and key_id is required");
      }
      if (req.keyId) {
        const key = await getKey(svc.db, req.keyId);
        if (!key) throw notFound("key", req.keyId);
        const instance = await getInstance(svc.db, key.instance_id);
        if (!instance) throw notFound("instance", key.instance_id);
        return svc.runtime.limitStatus({ kind: "key", key, instance });
      }
      const instance = await getInstance(svc.db, req.instanceId);
      if (!instance) throw notFound("instance", req.instanceId);
      return svc.runtime.limitStatus({ kind: "instance", instance });
    },
  };
}
