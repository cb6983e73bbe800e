// Standalone OpenWrt simulator for demos: `npm run sim:openwrt -- [--port N] [--version 24.10.2] [--hand-made] …`.
// Prints where it listens, the CA file and the logins; credentials go to stdout once, for the operator.
import { parseArgs } from 'node:util';
import { portArg } from '../shared/cli-args.js';
import { stopOnSignals, writeCaFile } from '../shared/main-lifecycle.js';
import { startOpenWrtSimulator } from './index.js';
import { RELEASE_PATTERN } from './version.js';

// strict (the default) rejects unknown options and missing values, so a typo stops here.
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'http-port': { type: 'string', default: '0' },
    version: { type: 'string', default: '24.10.2' },
    handler: { type: 'string' },
    empty: { type: 'boolean', default: false },
    'hand-made': { type: 'boolean', default: false },
    password: { type: 'string' },
    'time-scale': { type: 'string', default: '1000' },
    'no-luci-wireguard': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(`Usage: npm run sim:openwrt -- [options]
  --port N            HTTPS port on 127.0.0.1 (default 0 = any free port)
  --http-port N       plain HTTP port (default 0); it answers 307 to HTTPS, as uhttpd's redirect_https
  --version V         OpenWrt release: 22.03.7, 23.05.5, 24.10.2 (default), 25.12.1, SNAPSHOT;
                      21.02 (firewall3) is served but Meshplane refuses it
  --handler H         WireGuard handler: classic (peer edits need down/up) or renew (SNAPSHOT's default)
  --empty             no Meshplane rpcd login or ACL file (the router before the README's setup; log in as root)
  --hand-made         add a WireGuard setup made in LuCI (wg0, a site peer and a road warrior) to adopt
  --password PW       meshplane's rpcd password (default: generated and printed)
  --time-scale MS     real milliseconds per simulated second (default 1000)
  --no-luci-wireguard without luci-proto-wireguard (no luci.wireguard object)`);
  process.exit(0);
}

if (!RELEASE_PATTERN.test(values.version)) throw new Error(`--version must look like 24.10.2 or SNAPSHOT, got "${values.version}"`);
if (values.handler !== undefined && values.handler !== 'classic' && values.handler !== 'renew') throw new Error(`--handler must be classic or renew, got "${values.handler}"`);
if (values.password === '') throw new Error('--password must not be empty');
const timeScale = Number(values['time-scale']);
if (!/^\d+$/.test(values['time-scale']) || timeScale < 1 || timeScale > 60_000) throw new Error(`--time-scale must be 1-60000 (ms per simulated second), got "${values['time-scale']}"`);

const sim = await startOpenWrtSimulator({
  port: portArg('port', values.port),
  httpPort: portArg('http-port', values['http-port']),
  version: values.version,
  password: values.password,
  timeScale,
  withoutMeshplane: values.empty,
  handMade: values['hand-made'] ? true : undefined,
  faults: {
    ...(values.handler ? { handler: values.handler as 'classic' | 'renew' } : {}),
    ...(values['no-luci-wireguard'] ? { luciWireguard: false } : {}),
  },
});
const caFile = writeCaFile('openwrt-sim-', sim.caPem);
process.stdout.write([
  `OpenWrt ${sim.model.version} simulator on ${sim.url} (/ubus)`,
  `  HTTP: ${sim.httpUrl} (redirects to HTTPS)`,
  `  CA certificate: ${caFile}`,
  values.empty ? '  rpcd login meshplane: none (--empty)' : `  rpcd login: ${sim.username} / ${sim.password}`,
  `  root: root / ${sim.rootPassword}`,
  'Ctrl-C to stop.',
  '',
].join('\n'));

stopOnSignals(sim, caFile);
