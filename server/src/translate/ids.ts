// Tool-call ids for upstreams that send none. Derived from the request id and the call's
// position, so a streamed and a non-streamed answer to the same request agree.
import type { ClientFamily, ToolIdMinter } from "./hub.js";

export function toolIdMinter(client: ClientFamily, requestId: string): ToolIdMinter {
  // Anthropic accepts only [A-Za-z0-9_-] in tool_use ids; keep both formats to that.
  const base = requestId.replace(/[^A-Za-z0-9_-]/g, "_");
  const prefix = client === "openai" ? "call_" : "toolu_";
  return (index) => `${prefix}${base}_${index}`;
}
