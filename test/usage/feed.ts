// Feeding helpers: the same bytes in one piece, split at every boundary, or byte by byte.
import type { ExtractedUsage, StreamTap } from "../../server/src/providers/types.js";

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

export function feed(tap: StreamTap, ...chunks: Uint8Array[]): StreamTap {
  for (const chunk of chunks) tap.push(chunk);
  return tap;
}

/** The usage seen for every two-piece split of the stream, and for byte-by-byte delivery. */
export function splitResults(
  stream: Uint8Array,
  make: () => StreamTap,
): { whole: ExtractedUsage; splits: ExtractedUsage[]; byteByByte: ExtractedUsage } {
  const whole = feed(make(), stream).result();
  const splits: ExtractedUsage[] = [];
  for (let i = 1; i < stream.length; i++) {
    splits.push(feed(make(), stream.subarray(0, i), stream.subarray(i)).result());
  }
  const single = make();
  for (let i = 0; i < stream.length; i++) single.push(stream.subarray(i, i + 1));
  return { whole, splits, byteByByte: single.result() };
}
