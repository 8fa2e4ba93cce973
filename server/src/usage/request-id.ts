// Request ids (the usage record's primary key, and the x-request-id clients see) are UUIDv7
// (RFC 9562): the first 48 bits are the Unix time in milliseconds, so new ids land at the right-hand
// edge of usage_records' primary-key index instead of on random pages across it, which cost the
// database a sixth more CPU per inserted row in a small table and grows worse as the index outgrows
// memory. The random bits come from Node's pooled randomUUID: about 0.3 µs per id, against 2.3 µs
// for the uuid package's v7, on the request path.
import { randomUUID } from "node:crypto";

let prefixMs = -1;
let prefix = "";

export function requestId(nowMs: number = Date.now()): string {
  // Many requests share a millisecond under load: format its time part once.
  if (nowMs !== prefixMs) {
    const time = nowMs.toString(16).padStart(12, "0");
    prefix = `${time.slice(0, 8)}-${time.slice(8)}-7`;
    prefixMs = nowMs;
  }
  // randomUUID() is xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx: keep its random bits and its variant.
  return prefix + randomUUID().slice(15);
}
