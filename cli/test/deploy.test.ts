// apply --deploy and deploy against the RouterOS simulator: the job is followed to its end, the
// exit code says how it ended, and the device password is never printed.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouterOsSimulator, type RouterOsSimulator } from '../../server/test/sim/routeros/index.js';
import { cli, startServer, tempDir, type Server } from './support.js';

const WAN_FILE = `wan:
  name: routed
  topology: HUB_SPOKE
  tunnelCidr: 10.30.0.0/24
peers:
  - name: hub
    role: HUB
    endpointHost: 203.0.113.10
    endpointPort: 51820
    listenPort: 51820
    device: router
  - name: branch
    role: SITE
`;

describe('meshplane deploy', () => {
  let server: Server;
  let sim: RouterOsSimulator;
  let dir: string;

  beforeAll(async () => {
    [server, sim] = await Promise.all([startServer(), startRouterOsSimulator()]);
    await server.admin.ok(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
      input: { name: 'router', kind: 'ROUTEROS_API', host: sim.host, port: sim.apiPort, username: sim.username, secret: sim.password, tls: false, timeoutMs: 3000 },
    });
    dir = tempDir();
    fs.writeFileSync(path.join(dir, 'wan.yaml'), WAN_FILE);
  });
  afterAll(async () => {
    await Promise.all([server?.stop(), sim?.stop()]);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('apply --deploy deploys the managed peer and follows the job; a second deploy changes nothing', async () => {
    const applied = await cli(server, ['apply', '-f', 'wan.yaml', '--deploy', '--output', 'json'], { cwd: dir });
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    const result = JSON.parse(applied.stdout);
    expect(result.deployed).toEqual([expect.objectContaining({ peer: 'hub', status: 'SUCCEEDED', error: null })]);
    expect(result.deployed[0].operations).toBeGreaterThan(0);
    expect(sim.model.rows('/interface/wireguard').some((row) => row.comment?.startsWith('meshplane:'))).toBe(true);

    const again = await cli(server, ['deploy', 'hub', '--wan', 'routed']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('deploy hub: SUCCEEDED');
    for (const run of [applied, again]) expect(run.stdout + run.stderr).not.toContain(sim.password);

    const json = JSON.parse((await cli(server, ['deploy', 'hub', '--output', 'json'])).stdout);
    expect(json).toMatchObject({ peer: 'hub', status: 'SUCCEEDED', operations: 0 });
  });

  it('deploy of a peer without a device exits 1 with the server code', async () => {
    const run = await cli(server, ['deploy', 'branch', '--wan', 'routed']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^meshplane: [A-Z_]+: /);
  });
});
