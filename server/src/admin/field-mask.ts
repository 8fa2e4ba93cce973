// Update masks: which fields an Update call writes.
import type { FieldMask } from "@bufbuild/protobuf/wkt";
import { invalid } from "./errors.js";

/**
 * The set of paths to apply. An absent or empty mask means every allowed path. A path outside
 * `allowed` is an InvalidArgument naming it.
 */
export function maskPaths<P extends string>(mask: FieldMask | undefined, allowed: readonly P[]): Set<P> {
  const paths = mask?.paths ?? [];
  if (paths.length === 0) return new Set(allowed);
  const out = new Set<P>();
  for (const [i, p] of paths.entries()) {
    if (!(allowed as readonly string[]).includes(p)) {
      throw invalid(
        `update_mask.paths[${i}]`,
        `unknown path ${JSON.stringify(p)} (allowed: ${allowed.join(", ")})`,
      );
    }
    out.add(p as P);
  }
  return out;
}
