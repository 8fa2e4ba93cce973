import type { RequestRecord, WatchRequestsResponse } from "../../../../sdk/index.js";

/** Items kept on screen; older ones fall off so a busy fleet cannot grow the page without bound. */
export const FEED_CAP = 200;

export type FeedItem =
  | { kind: "record"; key: string; record: RequestRecord }
  | { kind: "missed"; key: string; count: number; reason: "slow" | "paused"; at: number };

export interface FeedState {
  items: FeedItem[];
  paused: boolean;
  /** Arrived while paused, newest first; shown on resume. */
  pending: FeedItem[];
  /** Arrived while paused but beyond the cap of `pending`. */
  pendingDropped: number;
  /** Sum of every "missed" notice the gateway sent. */
  missedTotal: number;
  seq: number;
}

export type FeedAction =
  | { type: "event"; event: WatchRequestsResponse["event"]; at: number }
  | { type: "pause" }
  | { type: "resume"; at: number }
  | { type: "clear" };

export function initialFeed(): FeedState {
  return { items: [], paused: false, pending: [], pendingDropped: 0, missedTotal: 0, seq: 0 };
}

function itemFor(state: FeedState, action: Extract<FeedAction, { type: "event" }>): FeedItem | undefined {
  const key = String(state.seq + 1);
  if (action.event.case === "record") return { kind: "record", key, record: action.event.value };
  // missed = 0 only confirms the subscription (the first message of every stream).
  if (action.event.case === "missed" && action.event.value > 0n) {
    return { kind: "missed", key, count: Number(action.event.value), reason: "slow", at: action.at };
  }
  return undefined;
}

export function feedReducer(state: FeedState, action: FeedAction): FeedState {
  switch (action.type) {
    case "event": {
      const item = itemFor(state, action);
      if (!item) return state;
      const seq = state.seq + 1;
      const missedTotal = state.missedTotal + (item.kind === "missed" ? item.count : 0);
      if (state.paused) {
        const pending = [item, ...state.pending];
        const over = Math.max(0, pending.length - FEED_CAP);
        return {
          ...state,
          seq,
          missedTotal,
          pending: pending.slice(0, FEED_CAP),
          pendingDropped: state.pendingDropped + over,
        };
      }
      return { ...state, seq, missedTotal, items: [item, ...state.items].slice(0, FEED_CAP) };
    }
    case "pause":
      return { ...state, paused: true };
    case "resume": {
      if (state.pendingDropped === 0) {
        const items = [...state.pending, ...state.items].slice(0, FEED_CAP);
        return { ...state, items, paused: false, pending: [], pendingDropped: 0 };
      }
      // The dropped ones were the oldest of the pause, so their notice sits below what was kept,
      // and it must itself fit under the cap.
      const kept = state.pending.slice(0, FEED_CAP - 1);
      const count = state.pendingDropped + state.pending.length - kept.length;
      const seq = state.seq + 1;
      const notice: FeedItem = { kind: "missed", key: String(seq), count, reason: "paused", at: action.at };
      const items = [...kept, notice, ...state.items].slice(0, FEED_CAP);
      return { ...state, seq, items, paused: false, pending: [], pendingDropped: 0 };
    }
    case "clear":
      return { ...state, items: [], pending: [], pendingDropped: 0, missedTotal: 0 };
  }
}
