// The fault queue: each request takes at most one fault, the first queued one whose scope matches.
import type { FakeRoute, FaultScope, WireFamily } from "./types.js";

export type Fault =
  | { kind: "fail"; status: number; retryAfter?: number; message?: string }
  | { kind: "delay"; ms: number }
  | { kind: "hang" }
  /** Destroy the socket once `afterChunks` stream events (or half a JSON body) went out. */
  | { kind: "resetMidStream"; afterChunks: number }
  /** Emit a syntactically broken event after `afterChunks` events, then carry on normally. */
  | { kind: "malformedChunk"; afterChunks: number }
  /** End the stream with the provider's own mid-stream error after `afterChunks` events. */
  | { kind: "streamError"; afterChunks: number };

export interface FaultOptions {
  /** A route or a whole family; absent means any request. */
  on?: FaultScope;
  /** How many requests the fault applies to (default 1; Infinity for all). */
  times?: number;
}

interface Queued {
  fault: Fault;
  on: FaultScope | undefined;
  remaining: number;
}

/** Faults that only make sense once a stream is under way; non-streaming requests pass them by. */
function streamOnly(f: Fault): boolean {
  return f.kind === "malformedChunk" || f.kind === "streamError";
}

function inScope(on: FaultScope | undefined, route: FakeRoute | undefined, family: WireFamily | undefined) {
  return on === undefined || on === route || on === family;
}

export interface FaultQueue {
  add(fault: Fault, opts?: FaultOptions): void;
  take(route: FakeRoute | undefined, family: WireFamily | undefined, stream: boolean): Fault | undefined;
  clear(): void;
  size(): number;
}

export function createFaultQueue(): FaultQueue {
  let queue: Queued[] = [];
  return {
    add(fault, opts = {}) {
      const times = opts.times ?? 1;
      if (!(times >= 1)) throw new Error(`fault times must be at least 1, got ${times}`);
      queue.push({ fault, on: opts.on, remaining: times });
    },
    take(route, family, stream) {
      const q = queue.find((e) => inScope(e.on, route, family) && (stream || !streamOnly(e.fault)));
      if (!q) return undefined;
      q.remaining -= 1;
      if (q.remaining <= 0) queue = queue.filter((e) => e !== q);
      return q.fault;
    },
    clear() {
      queue = [];
    },
    size() {
      return queue.length;
    },
  };
}
