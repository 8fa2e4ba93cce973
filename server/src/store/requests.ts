// Individual request records, newest first, with keyset pagination; captured bodies on demand.
import type { Kysely } from "kysely";
import { toPage, type Page, type TimeCursor } from "./page.js";
import type { Database, UsageRecordRow } from "./schema.js";
import { usageFilterConditions, type UsageFilter } from "./usage-filter.js";

type DB = Kysely<Database>;

export interface ListRequestsQuery {
  limit: number;
  /** The last row of the previous page. */
  before?: TimeCursor;
  filter?: UsageFilter;
  start?: Date;
  end?: Date;
  /** Only status >= 400 or a non-empty error class. */
  errorsOnly?: boolean;
}

export async function listRequests(db: DB, q: ListRequestsQuery): Promise<Page<UsageRecordRow, TimeCursor>> {
  let query = db
    .selectFrom("usage_records")
    .selectAll()
    .where((eb) => eb.and(usageFilterConditions(eb, q.filter ?? {})))
    .orderBy("time", "desc")
    .orderBy("id", "desc")
    .limit(q.limit + 1);
  if (q.start) query = query.where("time", ">=", q.start);
  if (q.end) query = query.where("time", "<", q.end);
  if (q.errorsOnly) {
    query = query.where((eb) => eb.or([eb("status_code", ">=", 400), eb("error_class", "<>", "")]));
  }
  const before = q.before;
  if (before) {
    query = query.where((eb) =>
      eb.or([eb("time", "<", before.time), eb.and([eb("time", "=", before.time), eb("id", "<", before.id)])]),
    );
  }
  return toPage(await query.execute(), q.limit, (r) => ({ time: r.time, id: r.id }));
}

export interface CaptureRow {
  request_body: string;
  response_body: string;
  truncated: boolean;
}

export interface RequestWithCapture {
  record: UsageRecordRow;
  /** Present when bodies were captured and have not expired, and the caller asked for them. */
  capture?: CaptureRow;
}

export async function getRequest(
  db: DB,
  id: string,
  opts: { withCapture?: boolean; now?: Date } = {},
): Promise<RequestWithCapture | undefined> {
  const record = await db.selectFrom("usage_records").selectAll().where("id", "=", id).executeTakeFirst();
  if (!record) return undefined;
  if (!opts.withCapture) return { record };
  const capture = await db
    .selectFrom("captures")
    .select(["request_body", "response_body", "truncated"])
    .where("request_id", "=", id)
    .where("expires_at", ">", opts.now ?? new Date())
    .executeTakeFirst();
  return capture ? { record, capture } : { record };
}
