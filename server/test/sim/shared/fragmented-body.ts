// The "fragmentOutput" fault of both simulators' HTTPS servers: the body goes out one byte
// per write, each write waiting for the previous one to flush, so a client receives it in
// many HTTP chunks and TLS records and must reassemble it (real devices under load do split
// replies; a client that parses the first chunk breaks only there).
import type { ServerResponse } from 'node:http';

export async function endOneByteAtATime(response: ServerResponse, body: string): Promise<void> {
  const bytes = Buffer.from(body, 'utf8');
  // Bounded by the body's length; stops early when the client went away.
  for (let i = 0; i < bytes.length && !response.destroyed; i += 1) {
    await new Promise<void>((resolve) => response.write(bytes.subarray(i, i + 1), () => setImmediate(resolve)));
  }
  response.end();
}
