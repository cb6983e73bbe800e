// The Linux leg of the secrets leak search (test/secrets-leak.test.ts runs RouterOS API, REST and
// pfSense against their simulators): a real app deploys a LINUX device ("localhost", which the
// app's driver factory places in a lab network namespace; real wireguard-go) through the whole
// lifecycle (deploy, verify, rotatePeerKey + planDeploy + deploy, a new preshared key and a peer
// update, another re-key, the key changed with `wg set` behind Meshplane's back + verify with
// drift, revert, clear); then no secret is in the trace log, the database or anything a client
// read. Skipped with the reason without root/namespaces/wireguard-go, failing in CI.
import fs from 'node:fs';
import path from 'node:path';
import { generateKeyPair } from '../../src/domain/keys.js';
import { createDriverFactory, type DriverFactory } from '../../src/devices/factory.js';
import { createLinuxDriver } from '../../src/devices/linux/index.js';
import type { SimulatedDevice } from '../support/device-run.js';
import { lifecycleLeakSuite } from '../support/lifecycle-leaks.js';
import { Lab } from './harness.js';
import { describeLab } from './require-lab.js';

/** The lab site `a` as a LINUX device: the WireGuard interfaces Meshplane tagged in its namespace. */
function linuxDevice(lab: Lab): SimulatedDevice {
  const managedLinks = async (): Promise<string[]> => {
    const links = JSON.parse((await lab.exec('a', ['ip', '-j', 'link', 'show'])).stdout) as Array<{ ifname: string; ifalias?: string }>;
    return links.filter((link) => (link.ifalias ?? '').startsWith('meshplane')).map((link) => link.ifname);
  };
  return {
    kind: 'LINUX',
    // "This machine", as the app's driver factory places it: inside the lab's namespace.
    input: { host: 'localhost', timeoutMs: 10_000 },
    credentials: new Map(),
    async managedKeys() {
      const keys: string[] = [];
      for (const ifname of await managedLinks()) keys.push((await lab.exec('a', ['wg', 'show', ifname, 'private-key'])).stdout.trim());
      return keys;
    },
    async rekeyBehindBack() {
      const [ifname] = await managedLinks();
      const key = generateKeyPair().privateKey;
      const file = path.join(lab.dir, 'rogue.key');
      fs.writeFileSync(file, `${key}\n`, { mode: 0o600 });
      try {
        await lab.exec('a', ['wg', 'set', ifname!, 'private-key', file]);
      } finally {
        fs.rmSync(file, { force: true });
      }
      return key;
    },
    close: async () => undefined,
  };
}

describeLab('secrets stay secret through a device lifecycle on LINUX (lab namespace)', () => {
  lifecycleLeakSuite('LINUX', async () => {
    const lab = await Lab.create();
    try {
      await lab.addSite('a', { lanCidr: '192.168.1.0/24', lanHostIp: '192.168.1.10' });
    } catch (error) {
      await lab.destroy();
      throw error;
    }
    const netns = lab.namespaceOf('a');
    const driverFactory: DriverFactory = async (target) => (target.kind === 'LINUX' ? createLinuxDriver(target, { netns }) : createDriverFactory()(target));
    return { device: linuxDevice(lab), driverFactory, stop: () => lab.destroy() };
  });
});
