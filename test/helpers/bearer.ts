// An interceptor for Connect and gRPC clients that sends an admin token on every call.
import type { Interceptor } from "@connectrpc/connect";

export const bearer =
  (token: string): Interceptor =>
  (next) =>
  (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
