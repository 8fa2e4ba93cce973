// A client that writes raw bytes and reads whatever comes back until the server closes the
// connection: for tests of what the server does to clients that misbehave.
import type { Duplex } from "node:stream";

/**
 * Opens a connection with `open` (plain TCP or TLS), sends `head` once it is up, and resolves with
 * everything the server sent once it closed the connection; rejects if it is still open at the
 * deadline.
 */
export function sendAndReadUntilClosed(
  open: (onConnect: () => void) => Duplex,
  head: string,
  deadlineMs: number,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = "";
    const socket = open(() => socket.write(head));
    const deadline = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the connection was still open after ${deadlineMs} ms; received: ${received}`));
    }, deadlineMs);
    socket.on("data", (d: Buffer) => (received += d.toString("latin1")));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(deadline);
      resolve(received);
    });
  });
}
