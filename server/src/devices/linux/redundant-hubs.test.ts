// The Linux driver on peers of a WAN with redundant hubs, without root: the resources and
// plans of every interface and of BIRD, the commands they become, preflight's refusals, and
// the bird files an apply writes (FakeRunner, a temporary state directory).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { overlay, peer, subnet } from '../../domain/__fixtures__/overlay.js';
import { describePlan, type ActualResource } from '../../domain/plan.js';
import { undoPlan } from '../../domain/undo.js';
import { DeviceError } from '../driver.js';
import { renderCompiledPeerBird } from '../../domain/render/bird.js';
import type { OverlaySpec } from '../../domain/index.js';
import { birdPaths, birdPathsOf, ConfigStore, configHash, readBird, runningPid } from './bird.js';
import { actualFrom, desiredFor } from './__fixtures__/desired.js';
import { FakeRunner } from './__fixtures__/fake-runner.js';
import { createLinuxDriver, LinuxDriver } from './driver.js';
import { clearLinux, planLinux } from './planning.js';
import { linuxPreflight } from './preflight.js';
import { linuxDesiredResources } from './resources.js';
import { SecretStore } from '../shared/secrets.js';
import { stepsFor } from './steps.js';

const STATE = '/var/lib/meshplane-test';

function redundantSpec(): OverlaySpec {
  return overlay([
    peer('h1', '10.0.0.1', { role: 'HUB', endpointHost: '198.51.100.1', subnets: [subnet('lanH1', '192.168.1.0/24')] }),
    peer('h2', '10.0.0.2', { role: 'HUB', endpointHost: '198.51.100.2' }),
    peer('s1', '10.0.0.3', { endpointHost: null, subnets: [subnet('lanS1', '192.168.3.0/24')] }),
  ], { topology: 'HUB_SPOKE', hubRedundancy: true, interfaceName: 'wgx' });
}

const spec = redundantSpec();
const spoke = desiredFor(spec, 's1');
const hub = desiredFor(spec, 'h1');
const paths = birdPaths(STATE, null, 'meshplane', 'wan1');
const forwardingOn: ActualResource = { kind: 'sysctl', id: 'net.ipv4.ip_forward', key: null, props: { value: '1' } };
const birdInstalled: ActualResource = { kind: 'bird-binary', id: 'bird', key: null, props: { birdc: 'yes', version: '2.0.12' } };

function resourcesOf(desired = spoke, configs = new ConfigStore()) {
  return linuxDesiredResources(desired, new SecretStore(), { manageFirewall: true, bird: { paths, configs } });
}

describe('a spoke of a WAN with redundant hubs as Linux resources', () => {
  it('has one tagged interface per hub with point-to-point addresses, no routes, and BIRD with the rendered config', () => {
    const configs = new ConfigStore();
    const resources = resourcesOf(spoke, configs);
    const links = resources.filter((resource) => resource.kind === 'link');
    expect(links.map((link) => link.key)).toEqual(['wgx', 'wgxh2']);
    for (const link of links) expect(link.props).toMatchObject({ alias: 'meshplane:wan1', 'rp-filter': '2', up: 'yes', mtu: '1420' });
    expect(resources.filter((resource) => resource.kind === 'address').map((resource) => resource.key)).toEqual([
      'wgx/10.0.0.3/32 peer 10.0.0.1/32', 'wgxh2/10.0.0.3/32 peer 10.0.0.2/32',
    ]);
    expect(resources.filter((resource) => resource.kind === 'wg-peer').map((resource) => resource.key.split('/')[0])).toEqual(['wgx', 'wgxh2']);
    expect(resources.filter((resource) => resource.kind === 'route')).toEqual([]);
    // Forwarding accepts on every interface.
    const rules = resources.filter((resource) => resource.kind === 'firewall').map((resource) => resource.key.replace(/@.*/, ''));
    expect(rules).toEqual(['wgx/forward-in', 'wgx/forward-out', 'wgxh2/forward-in', 'wgxh2/forward-out']);
    const text = renderCompiledPeerBird(spoke.overlay, spoke.peer);
    const bird = resources.find((resource) => resource.kind === 'bird')!;
    expect(bird).toEqual({ kind: 'bird', key: `${STATE}/host/meshplane-wan1/bird.conf`, props: { config: configHash(text), running: 'yes', loaded: configHash(text) } });
    expect(configs.text(configHash(text))).toBe(text);
  });

  it('keeps the hub\'s main address as it is and makes its link to the other hub point-to-point', () => {
    expect(resourcesOf(hub).filter((resource) => resource.kind === 'address').map((resource) => resource.key)).toEqual([
      'wgx/10.0.0.1/24', 'wgxh2/10.0.0.1/32 peer 10.0.0.2/32',
    ]);
  });

  it('plans interfaces first and BIRD last on an empty host, secrets masked', () => {
    const plan = planLinux(spoke, resourcesOf(), [forwardingOn]);
    expect(plan.operations.map((operation) => `${operation.op} ${operation.kind}`)).toEqual([
      'create link', 'create link', 'create address', 'create address', 'create wg-peer', 'create wg-peer',
      'create firewall', 'create firewall', 'create firewall', 'create firewall', 'create bird',
    ]);
    const lines = describePlan(plan);
    expect(lines[0]).toMatch(/^\+ create link wgx: alias=meshplane:wan1 mtu=1420 up=yes rp-filter=2 private-key=‹secret›$/);
    expect(lines).toContain('+ create address wgxh2/10.0.0.3/32 peer 10.0.0.2/32: ');
    expect(lines.at(-1)).toMatch(new RegExp(`^\\+ create bird ${STATE}/host/meshplane-wan1/bird\\.conf: config=sha256:[0-9a-f]{16} running=yes loaded=sha256:[0-9a-f]{16}$`));
    expect(lines.join('\n')).not.toContain(spec.peers[2]!.privateKey!);
  });

  it('plans nothing once the host holds it all; an edited config or a dead daemon is one update of bird', () => {
    const resources = resourcesOf();
    const actual = actualFrom(resources);
    expect(planLinux(spoke, resources, [...actual, forwardingOn, birdInstalled])).toEqual({ operations: [], unchanged: resources.length });
    const bird = actual.find((resource) => resource.kind === 'bird')!;
    const edited = { ...bird, props: { ...bird.props, config: 'sha256:00000000000000ff' } };
    expect(describePlan(planLinux(spoke, resources, [...actual.filter((item) => item !== bird), edited]))).toEqual([
      `~ update bird ${paths.config}: config sha256:00000000000000ff → ${bird.props.config}`,
    ]);
    const dead = { ...bird, props: { ...bird.props, running: 'no' } };
    expect(describePlan(planLinux(spoke, resources, [...actual.filter((item) => item !== bird), dead]))).toEqual([`~ update bird ${paths.config}: running no → yes`]);
  });

  it('when redundancy is turned off, removes BIRD and the link to the other hub, and routes by itself again', () => {
    const actual = actualFrom(resourcesOf());
    const single = { ...spec, wan: { ...spec.wan, hubRedundancy: false } };
    const desired = desiredFor(single, 's1');
    const plan = planLinux(desired, linuxDesiredResources(desired, new SecretStore(), { manageFirewall: true, bird: { paths, configs: new ConfigStore() } }), [...actual, forwardingOn]);
    const lines = describePlan(plan);
    expect(lines.filter((line) => line.startsWith('- '))).toEqual([
      `- delete bird ${paths.config}`,
      ...actual.filter((resource) => resource.kind === 'firewall' && resource.key!.startsWith('wgxh2/')).map((resource) => `- delete firewall ${resource.key}`),
      '- delete wg-peer ' + actual.find((resource) => resource.kind === 'wg-peer' && resource.key!.startsWith('wgxh2/'))!.key,
      '- delete address wgx/10.0.0.3/32 peer 10.0.0.1/32',
      '- delete address wgxh2/10.0.0.3/32 peer 10.0.0.2/32',
      '- delete link wgxh2',
    ]);
    expect(lines).toContain('+ create address wgx/10.0.0.3/24: ');
    expect(desired.peer.routes.length).toBeGreaterThan(0);
    expect(lines.filter((line) => line.startsWith('+ create route'))).toEqual(desired.peer.routes.map((route) => `+ create route ${route.destination}: dev=wgx`));
  });

  it('clears BIRD first, then everything on every interface', () => {
    const plan = clearLinux(actualFrom(resourcesOf()));
    expect(plan.operations[0]).toMatchObject({ op: 'delete', kind: 'bird', key: paths.config });
    expect(plan.operations.at(-1)).toMatchObject({ op: 'delete', kind: 'link' });
    expect(plan.operations.filter((operation) => operation.kind === 'link').map((operation) => operation.key)).toEqual(['wgx', 'wgxh2']);
  });
});

describe('steps of the new items', () => {
  const options = { routeProtocol: 77 };
  it('adds and deletes point-to-point addresses and sets rp_filter with the "/" spelling', () => {
    expect(stepsFor({ op: 'create', kind: 'address', key: 'wgx/10.0.0.3/32 peer 10.0.0.1/32', props: {} }, options)).toEqual([
      { type: 'run', argv: ['ip', 'address', 'add', '10.0.0.3/32', 'peer', '10.0.0.1/32', 'dev', 'wgx'] },
    ]);
    expect(stepsFor({ op: 'delete', kind: 'address', key: 'wgx.2/10.0.0.3/32 peer 10.0.0.1/32', id: 'wgx.2/10.0.0.3/32 peer 10.0.0.1/32', props: {} }, options)).toEqual([
      { type: 'run', argv: ['ip', 'address', 'del', '10.0.0.3/32', 'peer', '10.0.0.1/32', 'dev', 'wgx.2'] },
    ]);
    expect(stepsFor({ op: 'update', kind: 'link', key: 'wgx.2', id: 'wgx.2', changes: { 'rp-filter': '2' }, before: { 'rp-filter': '0' } }, options)).toEqual([
      { type: 'run', argv: ['sysctl', '-w', 'net/ipv4/conf/wgx.2/rp_filter=2'] },
    ]);
    expect(() => stepsFor({ op: 'create', kind: 'address', key: 'wgx/10.0.0.3/32 peer 10.0.0.1/32;reboot', props: {} }, options)).toThrow();
    expect(() => stepsFor({ op: 'update', kind: 'link', key: 'wgx', id: 'wgx', changes: { 'rp-filter': '2 && x' }, before: {} }, options)).toThrow(/rp_filter/);
  });

  it('writes and loads the config: start when BIRD does not run, reconfigure when it does, stop for an undo, remove on delete', () => {
    const config = paths.config;
    const hash = 'sha256:0123456789abcdef';
    expect(stepsFor({ op: 'create', kind: 'bird', key: config, props: { config: hash, running: 'yes', loaded: hash } }, options)).toEqual([
      { type: 'bird-write', config, hash }, { type: 'bird-start', config },
    ]);
    expect(stepsFor({ op: 'update', kind: 'bird', key: config, id: config, changes: { config: hash, loaded: hash }, before: {} }, options)).toEqual([
      { type: 'bird-write', config, hash }, { type: 'bird-reconfigure', config },
    ]);
    // Someone reloaded BIRD with an edited file: the file is put back, and loaded again.
    expect(stepsFor({ op: 'update', kind: 'bird', key: config, id: config, changes: { config: hash }, before: {} }, options)).toEqual([
      { type: 'bird-write', config, hash }, { type: 'bird-reconfigure', config },
    ]);
    expect(stepsFor({ op: 'update', kind: 'bird', key: config, id: config, changes: { running: 'yes' }, before: {} }, options)).toEqual([{ type: 'bird-start', config }]);
    expect(stepsFor({ op: 'update', kind: 'bird', key: config, id: config, changes: { config: hash, running: 'no' }, before: {} }, options)).toEqual([
      { type: 'bird-write', config, hash }, { type: 'bird-stop', config },
    ]);
    expect(stepsFor({ op: 'delete', kind: 'bird', key: config, id: config, props: {} }, options)).toEqual([{ type: 'bird-remove', config }]);
    expect(() => stepsFor({ op: 'create', kind: 'bird', key: config, props: { config: '../../etc/passwd', running: 'yes' } }, options)).toThrow(/hash/);
  });

  it('accepts only a bird.conf of its own state directory and namespace', () => {
    expect(birdPathsOf(STATE, null, paths.config)).toEqual(paths);
    expect(birdPathsOf(STATE, 'ns1', `${STATE}/ns1/meshplane-wan1/bird.conf`).socket).toBe(`${STATE}/ns1/meshplane-wan1/bird.ctl`);
    for (const config of ['/etc/bird/bird.conf', `${STATE}/host/meshplane-wan1/../../../etc/bird.conf`, `${STATE}/ns1/meshplane-wan1/bird.conf`, `${STATE}/host/x/bird.conf`, `${STATE}/host/meshplane-wan1/passwd`]) {
      expect(() => birdPathsOf(STATE, null, config), config).toThrow(/not a bird\.conf of this driver's state directory/);
    }
  });
});

describe('preflight of a peer with redundant hubs', () => {
  const issues = (actual: ActualResource[], desired = spoke) => linuxPreflight(desired, resourcesOf(desired), actual, true);

  it('passes with BIRD 2 and birdc installed', () => {
    expect(issues([forwardingOn, birdInstalled])).toEqual([]);
  });

  it('refuses without bird, with BIRD 1, without birdc, or for a peer marked as not running BGP', () => {
    expect(issues([forwardingOn, { ...birdInstalled, props: { birdc: 'yes', error: 'bird is not installed or not on PATH' } }])).toEqual([
      { severity: 'ERROR', resource: 'bird bird', message: expect.stringContaining('routes come from BIRD 2, which cannot be run here: bird is not installed') },
    ]);
    expect(issues([forwardingOn, { ...birdInstalled, props: { birdc: 'yes', version: '1.6.8' } }])[0]!.message).toMatch(/BIRD 1\.6\.8 is installed; the rendered configuration needs BIRD 2/);
    expect(issues([forwardingOn, { ...birdInstalled, props: { birdc: 'no', version: '2.0.12' } }])[0]!.message).toMatch(/^birdc .* is not installed/);
    const noBgp = structuredClone(spec);
    noBgp.peers[2]!.runsBgp = false;
    expect(issues([forwardingOn, birdInstalled], desiredFor(noBgp, 's1'))[0]!.message).toMatch(/not running BGP/);
  });

  it('names an interface of another owner once, under any of the peer\'s interface names', () => {
    const theirs: ActualResource = { kind: 'link', id: 'wgxh2', key: null, props: { type: 'veth' } };
    expect(issues([forwardingOn, birdInstalled, theirs]).map((issue) => issue.resource)).toEqual(['link wgxh2']);
  });
});

describe('the driver with BIRD files in a state directory', () => {
  const made: string[] = [];
  afterEach(() => {
    for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  const tempDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshplane-bird-test-'));
    made.push(dir);
    return dir;
  };

  it('writes bird.conf (0600) and starts bird with its own socket and pid file, as argument arrays', async () => {
    const stateDir = tempDir();
    const runner = new FakeRunner([['birdc', 'BIRD 2.0.12 ready.\nReading configuration from x\nReconfigured\n']]);
    const driver = new LinuxDriver({ runner, stateDir, manageFirewall: false });
    const files = driver.birdPaths(spoke);
    const plan = driver.plan(spoke, [forwardingOn]);
    const birdOnly = { operations: plan.operations.filter((operation) => operation.kind === 'bird'), unchanged: 0 };
    expect(await driver.apply(birdOnly)).toEqual({ applied: 1, failed: null });
    expect(runner.commands).toEqual([['bird', '-c', files.config, '-s', files.socket, '-P', files.pid]]);
    expect(fs.statSync(files.config).mode & 0o777).toBe(0o600);
    expect(fs.statSync(files.dir).mode & 0o777).toBe(0o700);
    const text = renderCompiledPeerBird(spoke.overlay, spoke.peer);
    expect(fs.readFileSync(files.config, 'utf8')).toBe(text);
    expect(fs.readFileSync(files.loaded, 'utf8').trim()).toBe(configHash(text));
    expect(fs.readdirSync(files.dir).sort()).toEqual(['bird.conf', 'bird.loaded']);

    // No daemon behind the pid file (the fake started none): it reads as not running.
    const actual = await driver.readState(spoke);
    expect(actual.find((resource) => resource.kind === 'bird')?.props).toEqual({ config: configHash(text), running: 'no', loaded: configHash(text) });
    expect(actual.find((resource) => resource.kind === 'bird-binary')).toMatchObject({ key: null });
  });

  it('undoes an update whose reconfigure BIRD refused: the earlier bird.conf is written back and loaded again', async () => {
    const stateDir = tempDir();
    let refuse = true;
    const runner = new FakeRunner([['birdc', (argv) => {
      if (argv.at(-1) !== 'configure') return '';
      if (refuse) throw new DeviceError('REFUSED', 'birdc -s … configure failed (exit code 1): bird.conf:3:1 syntax error');
      return 'BIRD 2.0.12 ready.\nReading configuration\nReconfigured\n';
    }]]);
    const driver = new LinuxDriver({ runner, stateDir, manageFirewall: false, daemonTimeoutMs: 200 });
    const files = driver.birdPaths(spoke);
    const old = 'router id 10.0.0.3;\n# the config before this deploy\n';
    fs.mkdirSync(files.dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(files.config, old, { mode: 0o600 });
    fs.writeFileSync(files.loaded, `${configHash(old)}\n`);
    // A stand-in daemon: a live process whose command line names this bird.conf.
    const daemon = spawn('sh', ['-c', 'sleep 30', 'bird', files.config], { stdio: 'ignore' });
    try {
      fs.writeFileSync(files.pid, `${daemon.pid}\n`);
      const before = await driver.readState(spoke);
      expect(before.find((resource) => resource.kind === 'bird')?.props).toEqual({ config: configHash(old), running: 'yes', loaded: configHash(old) });
      const update = driver.plan(spoke, before).operations.filter((operation) => operation.kind === 'bird');
      expect(update).toMatchObject([{ op: 'update', changes: { config: expect.any(String), loaded: expect.any(String) } }]);
      const result = await driver.apply({ operations: update, unchanged: 0 });
      expect(result).toMatchObject({ applied: 0, failed: { operation: { kind: 'bird' }, message: expect.stringContaining('syntax error') } });
      const now = await driver.readState(spoke);
      expect(now.find((resource) => resource.kind === 'bird')?.props).toMatchObject({ config: configHash(renderCompiledPeerBird(spoke.overlay, spoke.peer)), loaded: configHash(old) });

      refuse = false;
      const undo = undoPlan(before, now, update, driver.undoPolicy);
      expect(describePlan(undo.plan)).toEqual([`~ update bird ${files.config}: config ${configHash(renderCompiledPeerBird(spoke.overlay, spoke.peer))} → ${configHash(old)} (undo)`]);
      expect(await driver.apply(undo.plan)).toEqual({ applied: 1, failed: null });
      expect(fs.readFileSync(files.config, 'utf8')).toBe(old);
      expect(runner.commands.filter((argv) => argv.at(-1) === 'configure')).toHaveLength(2);
      expect((await driver.readState(spoke)).find((resource) => resource.kind === 'bird')?.props).toEqual(before.find((resource) => resource.kind === 'bird')?.props);

      // Clear: birdc down is not heeded by the stand-in, so it gets SIGTERM by the PID in its pid file.
      const clear = driver.clearPlan(await driver.readState(spoke));
      expect(await driver.apply(clear)).toEqual({ applied: clear.operations.length, failed: null });
      await new Promise((resolve) => (daemon.exitCode !== null || daemon.signalCode !== null ? resolve(null) : daemon.once('exit', resolve)));
      expect(daemon.signalCode).toBe('SIGTERM');
      expect(fs.existsSync(files.dir)).toBe(false);
    } finally {
      daemon.kill('SIGKILL');
    }
  });

  it('reads nothing where this WAN has no directory, and never takes another process for its daemon', () => {
    const stateDir = tempDir();
    const files = birdPaths(stateDir, null, 'meshplane', 'wan1');
    expect(readBird(files, new ConfigStore())).toBeNull();
    fs.mkdirSync(files.dir, { recursive: true });
    // A pid file naming a live process that is not this bird.conf's daemon (this test runner).
    fs.writeFileSync(files.pid, `${process.pid}\n`);
    expect(runningPid(files)).toBeNull();
    expect(readBird(files, new ConfigStore())?.props).toEqual({ config: '(none)', running: 'no', loaded: '(none)' });
  });

  it('does not probe bird for a peer without redundant hubs', async () => {
    const runner = new FakeRunner();
    await new LinuxDriver({ runner, stateDir: tempDir() }).readState(desiredFor({ ...spec, wan: { ...spec.wan, hubRedundancy: false } }, 's1'));
    expect(runner.commands.some((argv) => argv[0] === 'bird' || argv[0] === 'birdc' || argv.some((arg) => arg.includes('rp_filter')))).toBe(false);
  });
});

describe('the server environment', () => {
  const target = { id: 'd1', name: 'local', kind: 'LINUX' as const, host: 'localhost', port: null, username: null, secret: null, tls: false, tlsVerify: false, caPem: null, timeoutMs: 5_000, concurrency: 1 };

  it('names the state directory and the BIRD binaries (MESHPLANE_LINUX_STATE_DIR, MESHPLANE_BIRD, MESHPLANE_BIRDC)', async () => {
    const runner = new FakeRunner([['/opt/bird/sbin/bird --version', 'BIRD version 2.0.12\n']]);
    const env = { MESHPLANE_LINUX_STATE_DIR: '/srv/meshplane', MESHPLANE_BIRD: '/opt/bird/sbin/bird', MESHPLANE_BIRDC: '/opt/bird/sbin/birdc' };
    const driver = createLinuxDriver(target, { runner }, env);
    expect(driver.birdPaths(spoke).config).toBe('/srv/meshplane/host/meshplane-wan1/bird.conf');
    const binary = (await driver.readState(spoke)).find((resource) => resource.kind === 'bird-binary')!;
    expect(binary).toMatchObject({ id: '/opt/bird/sbin/bird', props: { version: '2.0.12', birdc: 'no' } });
    expect(createLinuxDriver(target, { runner }, {}).birdPaths(spoke).config).toBe('/var/lib/meshplane/linux/host/meshplane-wan1/bird.conf');
    expect(() => createLinuxDriver(target, { runner }, { MESHPLANE_LINUX_STATE_DIR: 'relative/dir' })).toThrow(/absolute path/);
  });
});
