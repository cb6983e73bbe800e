// Standalone pfSense simulator for demos: `pnpm sim:pfsense [--port N] [--version 2.8.1] [--keyauth] [--empty]`.
// Prints where it listens and how to log in; credentials go to stdout once, for the operator.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startPfSenseSimulator } from './index.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    version: { type: 'string' },
    keyauth: { type: 'boolean', default: false },
    empty: { type: 'boolean', default: false },
    password: { type: 'string' },
  },
});

const sim = await startPfSenseSimulator({
  port: values.port ? Number(values.port) : 0,
  version: values.version,
  authMethods: values.keyauth ? ['BasicAuth', 'KeyAuth'] : ['BasicAuth'],
  seed: !values.empty,
  password: values.password,
});
const caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pfsense-sim-')), 'ca.pem');
fs.writeFileSync(caFile, sim.caPem);
process.stdout.write([
  `pfSense REST API v${sim.model.version} simulator on ${sim.url}`,
  `  CA certificate: ${caFile}`,
  `  Basic auth: ${sim.username} / ${sim.password}`,
  values.keyauth ? `  X-API-Key: ${sim.apiKey}` : '  X-API-Key: disabled (BasicAuth only, as a fresh install; start with --keyauth)',
  'Ctrl-C to stop.',
  '',
].join('\n'));

const shutdown = () => {
  void sim.stop().then(() => {
    fs.rmSync(path.dirname(caFile), { recursive: true, force: true });
    process.exit(0);
  });
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
