// Standalone pfSense simulator for demos: `npm run sim:pfsense -- [--port N] [--version 2.8.1] [--keyauth] [--empty]`.
// Prints where it listens and how to log in; credentials go to stdout once, for the operator.
import { parseArgs } from 'node:util';
import { portArg } from '../shared/cli-args.js';
import { stopOnSignals, writeCaFile } from '../shared/main-lifecycle.js';
import { startPfSenseSimulator } from './index.js';

// strict (the default) rejects unknown options and missing values, so a typo stops here.
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    version: { type: 'string', default: '2.10.0' },
    keyauth: { type: 'boolean', default: false },
    empty: { type: 'boolean', default: false },
    password: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(`Usage: npm run sim:pfsense -- [options]
  --port N        HTTPS port on 127.0.0.1 (default 0 = any free port)
  --version V     REST API package version, e.g. 2.8.1 or 2.9.0 (default 2.10.0);
                  before 2.9.0 there are no WireGuard statistics endpoints
  --keyauth       also enable KeyAuth and print an X-API-Key (a fresh install has Basic auth only)
  --empty         start without the pre-existing (unmanaged) tunnel, peer, gateway, route and rules
  --password PW   the admin password (default: generated and printed)`);
  process.exit(0);
}

// The simulator decides which endpoints exist by comparing versions numerically.
if (!/^v?\d+\.\d+(\.\d+)?$/.test(values.version)) throw new Error(`--version must look like 2.9.0, got "${values.version}"`);
if (values.password === '') throw new Error('--password must not be empty');

const sim = await startPfSenseSimulator({
  port: portArg('port', values.port),
  version: values.version.replace(/^v/, ''),
  authMethods: values.keyauth ? ['BasicAuth', 'KeyAuth'] : ['BasicAuth'],
  seed: !values.empty,
  password: values.password,
});
const caFile = writeCaFile('pfsense-sim-', sim.caPem);
process.stdout.write([
  `pfSense REST API v${sim.model.version} simulator on ${sim.url}`,
  `  CA certificate: ${caFile}`,
  `  Basic auth: ${sim.username} / ${sim.password}`,
  values.keyauth ? `  X-API-Key: ${sim.apiKey}` : '  X-API-Key: disabled (BasicAuth only, as a fresh install; start with --keyauth)',
  'Ctrl-C to stop.',
  '',
].join('\n'));

stopOnSignals(sim, caFile);
