// The filter shared by usage aggregation and request listing.
import type { ExpressionBuilder, Expression, SqlBool } from "kysely";
import type { Database } from "./schema.js";

export interface UsageFilter {
  instanceIds?: readonly string[];
  keyIds?: readonly string[];
  providerIds?: readonly string[];
  /** Matches the requested or the served model. */
  models?: readonly string[];
}

/** Conditions for a filter; empty lists match everything. */
export function usageFilterConditions(
  eb: ExpressionBuilder<Database, "usage_records">,
  f: UsageFilter,
): Expression<SqlBool>[] {
  const conds: Expression<SqlBool>[] = [];
  if (f.instanceIds?.length) conds.push(eb("usage_records.instance_id", "in", [...f.instanceIds]));
  if (f.keyIds?.length) conds.push(eb("usage_records.key_id", "in", [...f.keyIds]));
  if (f.providerIds?.length) conds.push(eb("usage_records.provider_id", "in", [...f.providerIds]));
  if (f.models?.length) {
    const models = [...f.models];
    conds.push(
      eb.or([
        eb("usage_records.requested_model", "in", models),
        eb("usage_records.served_model", "in", models),
      ]),
    );
  }
  return conds;
}
