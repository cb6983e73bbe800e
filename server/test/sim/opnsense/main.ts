// Standalone OPNsense simulator for demos: `npm run sim:opnsense -- [--port N] [--version 26.7.2] [--seed default]`.
// Prints where it listens and the API key/secret; credentials go to stdout once, for the operator.
import { parseArgs } from 'node:util';
import { portArg } from '../shared/cli-args.js';
import { stopOnSignals, writeCaFile } from '../shared/main-lifecycle.js';
import { PRIVILEGES } from './auth.js';
import { startOpnSenseSimulator } from './index.js';
import type { SeedKind } from './seed.js';

const SEEDS: Record<string, SeedKind> = { default: true, empty: 'empty', 'hand-made': 'hand-made', 'worked-example': 'worked-example' };

// strict (the default) rejects unknown options and missing values, so a typo stops here.
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    version: { type: 'string', default: '26.7.2' },
    seed: { type: 'string', default: 'default' },
    'rollback-seconds': { type: 'string', default: '60' },
    privileges: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(`Usage: npm run sim:opnsense -- [options]
  --port N               HTTPS port on 127.0.0.1 (default 0 = any free port)
  --version V            OPNsense release to emulate, e.g. 24.1, 24.7.1, 25.7.1 (default 26.7.2)
  --seed S               default | empty | hand-made | worked-example (default: default = WAN, LAN and a
                         hand-made road-warrior instance Meshplane must leave alone)
  --rollback-seconds N   the filter rollback timer of savepoint/apply (≤26.1; default 60)
  --privileges a,b       the API key's privileges (default: all, an admin key), names as in
                         System › Access › Users, e.g. "VPN: WireGuard: Configuration,Firewall: Rules [new]"`);
  process.exit(0);
}

if (!/^\d+\.\d+(\.\d+)?$/.test(values.version)) throw new Error(`--version must look like 26.7.2, got "${values.version}"`);
const seed = SEEDS[values.seed];
if (seed === undefined) throw new Error(`--seed must be one of ${Object.keys(SEEDS).join(', ')}, got "${values.seed}"`);
const rollbackSeconds = Number(values['rollback-seconds']);
if (!/^\d+$/.test(values['rollback-seconds']) || rollbackSeconds < 1) throw new Error(`--rollback-seconds must be a whole number of seconds ≥ 1, got "${values['rollback-seconds']}"`);
const privileges = values.privileges === undefined ? null : values.privileges.split(',').map((name) => name.trim()).filter((name) => name !== '');
for (const name of privileges ?? []) if (!(name in PRIVILEGES)) throw new Error(`--privileges: unknown privilege "${name}" (known: ${Object.keys(PRIVILEGES).join('; ')})`);

const sim = await startOpnSenseSimulator({ port: portArg('port', values.port), version: values.version, seed, faults: { rollbackSeconds, privileges } });
const caFile = writeCaFile('opnsense-sim-', sim.caPem);
process.stdout.write([
  `OPNsense ${sim.version} simulator on ${sim.url}`,
  `  CA certificate: ${caFile}`,
  `  API key:    ${sim.key}`,
  `  API secret: ${sim.secret}`,
  `  Privileges: ${privileges === null ? 'all (admin)' : privileges.join(', ')}`,
  'Ctrl-C to stop.',
  '',
].join('\n'));

stopOnSignals(sim, caFile);
