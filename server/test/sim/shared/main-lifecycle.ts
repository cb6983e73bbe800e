// What the HTTPS simulators' command lines share around their own banner: the CA certificate
// written to a private temporary folder a user can point a device at, and a shutdown on
// Ctrl-C or SIGTERM that stops the server and removes that folder once.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Writes `caPem` to `<tmp>/<prefix>XXXXXX/ca.pem` and returns the file's path. */
export function writeCaFile(prefix: string, caPem: string): string {
  const caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), prefix)), 'ca.pem');
  fs.writeFileSync(caFile, caPem);
  return caFile;
}

/** On SIGINT/SIGTERM: stop the simulator, remove the CA file's folder, exit 0 (a second signal is ignored). */
export function stopOnSignals(sim: { stop(): Promise<void> }, caFile: string): void {
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    void sim.stop().then(() => {
      fs.rmSync(path.dirname(caFile), { recursive: true, force: true });
      process.exit(0);
    });
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}
