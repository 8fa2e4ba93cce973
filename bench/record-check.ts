// Did the gateway record every request it served? See accounting.ts for how the counts are read.
import type { Settled } from "./accounting.js";

export interface RecordCheck {
  /** Requests the load generator counted as completed (wrk) or sent (load client). */
  clientCount: number;
  /** What clientCount counts, for the report: "wrk completed", "sent", "streams started". */
  clientLabel: string;
  /** keygate's own count of completed requests, when /metrics has it. */
  served?: number;
  records: number;
  ok: boolean;
  note: string;
}

/**
 * After a wrk run: wrk drops requests still in flight when its time is up, so keygate may have
 * served up to `connections` more than wrk counted. records must equal served exactly.
 */
export function checkAfterWrk(wrkRequests: number, connections: number, s: Settled): RecordCheck {
  const bounded = (n: number): boolean => n >= wrkRequests && n <= wrkRequests + connections;
  if (s.served === undefined) {
    return {
      clientCount: wrkRequests,
      clientLabel: "wrk completed",
      records: s.records,
      ok: bounded(s.records),
      note: `records within wrk's count + in-flight (${wrkRequests}..${wrkRequests + connections})`,
    };
  }
  return {
    clientCount: wrkRequests,
    clientLabel: "wrk completed",
    served: s.served,
    records: s.records,
    ok: s.records === s.served && bounded(s.served),
    note: "records == served (keygate_requests_total)",
  };
}

/** After the load client: it waited for every request it sent, so records must equal sent. */
export function checkAfterLoad(sent: number, s: Settled): RecordCheck {
  return {
    clientCount: sent,
    clientLabel: "sent",
    ...(s.served === undefined ? {} : { served: s.served }),
    records: s.records,
    ok: s.records === sent && (s.served === undefined || s.served === sent),
    note: "records == requests sent",
  };
}

export function allOk(checks: readonly RecordCheck[]): boolean {
  return checks.length > 0 && checks.every((c) => c.ok);
}
