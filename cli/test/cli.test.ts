// The meshplane bin end to end against real servers on loopback: export → apply → export round
// trip, idempotent apply, plan exit codes, prune, server error codes, the token never printed,
// config files with mode 0600.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, startServer, tempDir, type Server } from './support.js';

const BYO_KEY = 'mKq0Jm7r8QmWDQbGcWTXtfCEZxYjvYcDGmA3kUh0u1Y=';

const WAN_FILE = `wan:
  name: mesh
  topology: HUB_SPOKE
  tunnelCidr: 10.20.0.0/24
  natPool: 10.99.0.0/16
  keepalive: 30
peers:
  - name: office
    role: SITE
    lans:
      - cidr: 192.168.1.0/24
        description: Office LAN
        natCidr: 10.99.1.0/24
    services:
      - name: web
        localIp: 192.168.1.10
        localPort: 80
  - name: hub
    role: HUB
    endpointHost: hub.example.net
    endpointPort: 51820
    listenPort: 51820
    device: edge
    lans:
      - cidr: 192.168.10.0/24
        description: HQ
  - name: laptop
    role: CLIENT
    publicKey: ${BYO_KEY}
    keepalive: 25
    enabled: false
    expiresAt: 2099-01-01T00:00:00.000Z
presharedKeys:
  - [office, hub]
`;

async function addDevice(server: Server): Promise<void> {
  await server.admin.ok(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
    input: { name: 'edge', kind: 'ROUTEROS_API', host: '127.0.0.1', port: 9, username: 'admin', secret: 'device-password', tls: false, timeoutMs: 1000 },
  });
}

function write(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

describe('meshplane CLI', () => {
  let a: Server;
  let b: Server;
  let dir: string;

  beforeAll(async () => {
    [a, b] = await Promise.all([startServer(), startServer()]);
    await Promise.all([addDevice(a), addDevice(b)]);
    dir = tempDir();
    write(dir, 'wan.yaml', WAN_FILE);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('applies a file to an empty server, then makes no change the second time', async () => {
    const first = await cli(a, ['apply', '-f', 'wan.yaml'], { cwd: dir });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('+ wan mesh');
    expect(first.stdout).toContain('+ peer office');
    expect(first.stdout).toContain('+ presharedKey hub ↔ office');

    const second = await cli(a, ['apply', '-f', 'wan.yaml', '--output', 'json'], { cwd: dir });
    expect(second.code).toBe(0);
    const result = JSON.parse(second.stdout);
    expect(result).toMatchObject({ applied: true, mutations: 0, changes: [], summary: 'no changes' });
    expect((await cli(a, ['apply', '-f', 'wan.yaml'], { cwd: dir })).stdout.trim()).toBe('WAN mesh: no changes');
  });

  it('round trip: export → apply to an empty server → export gives the same bytes, with no secrets', async () => {
    const exported = await cli(a, ['export', 'mesh']);
    expect(exported.code).toBe(0);
    const yaml = exported.stdout;
    expect(yaml).toContain('natCidr: 10.99.1.0/24');
    expect(yaml).toContain('device: edge');
    expect(yaml).toContain(`publicKey: ${BYO_KEY}`);
    expect(yaml).toContain('enabled: false\n    expiresAt: 2099-01-01T00:00:00.000Z\n');
    expect(yaml).not.toMatch(/private|preshared.*=/i);
    const { wan } = await a.admin.ok<{ wan: { peers: { edges: Array<{ node: { name: string; publicKey: string } }> } } }>(
      `query ($id: ID!) { wan(id: $id) { peers(first: 10) { edges { node { name publicKey } } } } }`,
      { id: await wanId(a, 'mesh') },
    );
    for (const { node } of wan.peers.edges) if (node.name !== 'laptop') expect(yaml).not.toContain(node.publicKey);

    write(dir, 'exported.yaml', yaml);
    const applied = await cli(b, ['apply', '-f', 'exported.yaml'], { cwd: dir });
    expect(applied.code).toBe(0);
    const again = await cli(b, ['export', 'mesh', '-o', 'again.yaml'], { cwd: dir });
    expect(again.code).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'again.yaml'), 'utf8')).toBe(yaml);
  });

  it('plan: 0 without changes, 2 with changes (field by field), 3 for a change the API cannot make', async () => {
    expect((await cli(a, ['plan', '-f', 'wan.yaml'], { cwd: dir })).code).toBe(0);

    write(dir, 'edited.yaml', WAN_FILE.replace('endpointHost: hub.example.net', 'endpointHost: hub2.example.net').replace('description: HQ', 'description: Head office'));
    const changed = await cli(a, ['plan', '-f', 'edited.yaml'], { cwd: dir });
    expect(changed.code).toBe(2);
    expect(changed.stdout).toContain('WAN mesh: 0 to create, 2 to update, 0 to remove');
    expect(changed.stdout).toContain('~ peer hub: endpointHost hub.example.net → hub2.example.net');
    expect(changed.stdout).toContain('~ lan 192.168.10.0/24 of peer hub: description HQ → Head office');

    const exported = (await cli(a, ['export', 'mesh'])).stdout;
    const hubIp = /name: hub\n\s+role: HUB\n\s+tunnelIp: (\S+)/.exec(exported)![1]!;
    write(dir, 'renumbered.yaml', exported.replace(`tunnelIp: ${hubIp}`, 'tunnelIp: 10.20.0.200'));
    const refused = await cli(a, ['apply', '-f', 'renumbered.yaml'], { cwd: dir });
    expect(refused.code).toBe(3);
    expect(refused.stdout).toContain(`peer hub: tunnelIp cannot change (${hubIp} → 10.20.0.200)`);
    expect((await cli(a, ['plan', '-f', 'wan.yaml'], { cwd: dir })).code).toBe(0);

    const applied = await cli(a, ['apply', '-f', 'edited.yaml', '--output', 'json'], { cwd: dir });
    expect(JSON.parse(applied.stdout)).toMatchObject({ applied: true, mutations: 2 });
    expect((await cli(a, ['apply', '-f', 'wan.yaml'], { cwd: dir })).code).toBe(0);
  });

  it('prune: a peer, LAN and preshared key the file does not list stay without --prune and go with it', async () => {
    const id = await wanId(a, 'mesh');
    await a.admin.ok(`mutation ($wanId: ID!) { addPeer(wanId: $wanId, input: { name: "stray", role: CLIENT }) { peer { id } } }`, { wanId: id });
    write(dir, 'no-psk.yaml', WAN_FILE.replace(/presharedKeys:\n.*\n/, ''));

    const kept = await cli(a, ['apply', '-f', 'no-psk.yaml'], { cwd: dir });
    expect(kept.code).toBe(0);
    expect(kept.stdout).toContain('(kept, not in the file; --prune removes it) peer stray');
    expect(kept.stdout).toContain('(kept, not in the file; --prune removes it) presharedKey hub ↔ office');
    expect(await peerNames(a, id)).toContain('stray');

    const planned = await cli(a, ['plan', '-f', 'no-psk.yaml', '--prune'], { cwd: dir });
    expect(planned.code).toBe(2);
    expect(planned.stdout).toContain('- peer stray');
    const pruned = await cli(a, ['apply', '-f', 'no-psk.yaml', '--prune'], { cwd: dir });
    expect(pruned.code).toBe(0);
    expect(await peerNames(a, id)).toEqual(['hub', 'laptop', 'office']);
    expect((await cli(a, ['export', 'mesh'])).stdout).not.toContain('presharedKeys');
    expect((await cli(a, ['apply', '-f', 'wan.yaml'], { cwd: dir })).code).toBe(0);
  });

  it('errors carry the server code and exit 1; the token is never printed', async () => {
    const badToken = 'mp_not-a-real-token-5d41402abc4b2a76';
    for (const output of [[], ['--output', 'json']]) {
      const run = await cli(a, ['export', 'mesh', ...output], { env: { MESHPLANE_TOKEN: badToken } });
      expect(run.code).toBe(1);
      expect(run.stdout + run.stderr).not.toContain(badToken);
      expect(run.stdout + run.stderr).toMatch(/UNAUTHENTICATED|FORBIDDEN/);
    }
    const flag = await cli(a, ['status', 'mesh', '--token', badToken]);
    expect(flag.code).toBe(1);
    expect(flag.stdout + flag.stderr).not.toContain(badToken);

    write(dir, 'bad-cidr.yaml', WAN_FILE.replace('cidr: 192.168.10.0/24', 'cidr: 192.168.10.0/99').replace('name: mesh', 'name: mesh2'));
    const invalid = await cli(a, ['apply', '-f', 'bad-cidr.yaml'], { cwd: dir });
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^meshplane: INVALID_CIDR: LAN 192\.168\.10\.0\/99: /);
    const json = await cli(a, ['export', 'nowhere', '--output', 'json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({ error: { code: 'NOT_FOUND', message: 'WAN "nowhere" not found (by name or id)' } });

    for (const run of [invalid, json, await cli(a, ['export', 'mesh']), await cli(a, ['status', 'mesh', '--output', 'json'])]) {
      expect(run.stdout + run.stderr).not.toContain(a.token);
    }

    write(dir, 'typo.yaml', WAN_FILE.replace('endpointPort: 51820', 'endpointprot: 51820'));
    const typo = await cli(a, ['plan', '-f', 'typo.yaml'], { cwd: dir });
    expect(typo.code).toBe(3);
    expect(typo.stderr).toContain('endpointprot');
  });

  it('config writes the peer configuration with mode 0600 and refuses a file others can read', async () => {
    const run = await cli(a, ['config', 'office', '--wan', 'mesh', '-o', 'office.conf'], { cwd: dir });
    expect(run.code).toBe(0);
    const file = path.join(dir, 'office.conf');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^\[Interface\]\n[\s\S]*^PrivateKey = /m);

    const open = path.join(dir, 'open.conf');
    fs.writeFileSync(open, '', { mode: 0o644 });
    fs.chmodSync(open, 0o644);
    const refused = await cli(a, ['config', 'office', '-o', 'open.conf'], { cwd: dir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('mode 0644');
    expect(fs.readFileSync(open, 'utf8')).toBe('');
  });

  it('status lists the tunnels and the stale peers', async () => {
    const run = await cli(a, ['status', 'mesh', '--output', 'json']);
    expect(run.code).toBe(0);
    const status = JSON.parse(run.stdout);
    expect(status.tunnels.length).toBeGreaterThan(0);
    for (const tunnel of status.tunnels) expect(['UP', 'DOWN', 'UNKNOWN']).toContain(tunnel.state);
    expect(status.stale).toEqual([]);

    // office's configuration was downloaded (the config test): a change to office makes it stale.
    write(dir, 'keepalive.yaml', WAN_FILE.replace('role: SITE', 'role: SITE\n    keepalive: 40'));
    expect((await cli(a, ['apply', '-f', 'keepalive.yaml'], { cwd: dir })).code).toBe(0);
    const after = JSON.parse((await cli(a, ['status', 'mesh', '--output', 'json'])).stdout);
    expect(after.stale).toEqual(['office']);
    const text = await cli(a, ['status', 'mesh']);
    expect(text.stdout).toMatch(/^WAN mesh: \d+ up, \d+ down, \d+ unknown; \d+ stale/);
  });
});

async function wanId(server: Server, name: string): Promise<string> {
  const data = await server.admin.ok<{ wans: { edges: Array<{ node: { id: string; name: string } }> } }>(`query { wans(first: 100) { edges { node { id name } } } }`);
  return data.wans.edges.find(({ node }) => node.name === name)!.node.id;
}

async function peerNames(server: Server, id: string): Promise<string[]> {
  const data = await server.admin.ok<{ wan: { peers: { edges: Array<{ node: { name: string } }> } } }>(`query ($id: ID!) { wan(id: $id) { peers(first: 100) { edges { node { name } } } } }`, { id });
  return data.wan.peers.edges.map(({ node }) => node.name).sort();
}
