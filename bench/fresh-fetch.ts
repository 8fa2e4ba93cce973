// A fetch that opens a new connection for every call. Behind node:cluster (keygate --workers N) the
// primary hands each new connection to the next worker in turn, so successive calls reach every
// worker; over one keep-alive connection they would all reach the same one.
import { Agent, fetch as undiciFetch } from "undici";

// pipelining 0 turns keep-alive off.
const agent = new Agent({ pipelining: 0 });

export const freshConnectionFetch: typeof globalThis.fetch = async (input, init) => {
  const url = input instanceof Request ? input.url : input.toString();
  const res = await undiciFetch(url, { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher: agent });
  // undici's Response is the implementation behind Node's global one; only the type names differ.
  return res as unknown as Response;
};
