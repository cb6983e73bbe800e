// Runs the RouterOS simulator standalone, so Meshplane can be tried without hardware:
//   npm run sim:routeros -- --port 8728 --tls-port 8729 --rest-port 8443 --version 7.18
// Listens on 127.0.0.1 only and stops on SIGINT/SIGTERM.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { portArg } from '../shared/cli-args.js';
import { startRouterOsSimulator } from './simulator.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8728' },
    'tls-port': { type: 'string', default: '8729' },
    'rest-port': { type: 'string', default: '8443' },
    version: { type: 'string', default: '7.18.2' },
    username: { type: 'string', default: 'meshplane' },
    password: { type: 'string' },
    lan: { type: 'string' },
    'no-seed': { type: 'boolean', default: false },
    'ca-file': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(`Usage: npm run sim:routeros -- [options]
  --port N          binary API port (default 8728; 0 = any free port)
  --tls-port N      api-ssl port (default 8729)
  --rest-port N     REST (HTTPS) port (default 8443)
  --version V       emulated RouterOS version, e.g. 7.17 or 7.18.2 (default 7.18.2)
  --username NAME   API user (default meshplane)
  --password PW     its password (default: generated and printed)
  --lan CIDR        LAN behind the router with a pre-existing static route (default 192.168.2.0/24)
  --no-seed         start empty: no unmanaged interface, routes or firewall rules
  --ca-file PATH    also write the self-signed certificate (PEM) to this file`);
  process.exit(0);
}

const sim = await startRouterOsSimulator({
  apiPort: portArg('port', values.port),
  apiTlsPort: portArg('tls-port', values['tls-port']),
  restPort: portArg('rest-port', values['rest-port']),
  version: values.version,
  username: values.username,
  password: values.password,
  unmanagedState: values['no-seed'] ? false : values.lan ? { lan: values.lan } : true,
});
if (values['ca-file']) writeFileSync(values['ca-file'], sim.caPem);

// The credentials are printed on purpose: this is a local demo router the user just started.
console.log(`RouterOS ${values.version} simulator listening on ${sim.host}
  binary API  ${sim.host}:${sim.apiPort}
  api-ssl     ${sim.host}:${sim.apiTlsPort}
  REST        https://${sim.host}:${sim.restPort}/rest
  user        ${sim.username}
  password    ${sim.password}
${values['ca-file'] ? `  CA cert     ${values['ca-file']}` : '  (pass --ca-file PATH to save the self-signed certificate)'}
Ctrl-C stops it.`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void sim.stop().then(() => process.exit(0));
  });
}
