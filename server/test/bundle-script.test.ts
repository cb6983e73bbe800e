// The Linux bundle is a shell script: run it for real with sh, against stand-ins for wg-quick,
// ip and bird that record what they are asked to do (no root, no interfaces). The lab proves
// the tunnels and routing; this proves the script's own logic: what `up` brings up and takes
// down when the WAN changed between two downloads.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileOverlay } from '../src/domain/compile.js';
import { overlay, peer, subnet } from '../src/domain/__fixtures__/overlay.js';
import type { PeerSpec } from '../src/domain/model.js';
import { renderLinuxBundle } from '../src/domain/render/linux-bundle.js';

const hubs = [1, 2, 3].map((n) => peer(`h${n}`, `10.0.0.${n}`, { role: 'HUB' }));
const site = peer('office', '10.0.0.11', { endpointHost: null, subnets: [subnet('lan', '192.168.11.0/24')] });
const bundleFor = (peers: PeerSpec[]) => renderLinuxBundle(compileOverlay(overlay([...peers, site], { topology: 'HUB_SPOKE', hubRedundancy: true, interfaceName: 'wg0' })), 'office');

/** Running, not gone or a zombie (orphans here are re-parented to a PID 1 that may never reap them). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('the Linux bundle script', () => {
  let root: string;
  let env: NodeJS.ProcessEnv;
  const state = () => path.join(root, 'state');
  const up = () => fs.readdirSync(state()).filter((name) => name.startsWith('if-')).map((name) => name.slice(3)).sort();
  const log = () => fs.readFileSync(path.join(root, 'calls.log'), 'utf8').trim().split('\n');

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'meshplane-bundle-'));
    const bin = path.join(root, 'bin');
    fs.mkdirSync(bin);
    fs.mkdirSync(path.join(root, 'state'));
    const stub = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!/bin/sh\necho "${name} $*" >> "$STUB_ROOT/calls.log"\n${body}\n`, { mode: 0o755 });
    // wg-quick names the interface after the file, as the real one does.
    stub('wg-quick', 'name=$(basename "$2" .conf); if [ "$1" = up ]; then touch "$STUB_ROOT/state/if-$name"; else rm "$STUB_ROOT/state/if-$name"; fi');
    stub('ip', '[ "$1" = link ] && [ "$2" = show ] && [ -e "$STUB_ROOT/state/if-$3" ]');
    stub('bird', 'while [ $# -gt 0 ]; do if [ "$1" = -P ]; then sleep 300 </dev/null >/dev/null 2>&1 & echo $! > "$2"; fi; shift; done');
    env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, STUB_ROOT: root, MESHPLANE_DIR: path.join(root, 'site'), MESHPLANE_BIRD: path.join(bin, 'bird') };
  });
  afterAll(() => {
    const pid = path.join(root, 'site', 'bird.pid');
    if (fs.existsSync(pid)) try { process.kill(Number(fs.readFileSync(pid, 'utf8')), 'SIGKILL'); } catch { /* already gone */ }
    fs.rmSync(root, { recursive: true, force: true });
  });

  const run = (script: string, command: string) => {
    const file = path.join(root, 'bundle.sh');
    fs.writeFileSync(file, script, { mode: 0o600 });
    execFileSync('sh', [file, command], { env, stdio: 'pipe', timeout: 10_000 });
  };

  it('brings up every interface and BIRD, with private files', () => {
    run(bundleFor(hubs), 'up');
    expect(up()).toEqual(['wg0', 'wg0h2', 'wg0h3']);
    expect(fs.statSync(path.join(root, 'site', 'wireguard', 'wg0.conf')).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(root, 'site', 'bird.conf'), 'utf8')).toContain('protocol bgp mp_10_0_0_3');
    expect(log().filter((line) => line.startsWith('bird '))).toEqual([`bird -c ${root}/site/bird.conf -s ${root}/site/bird.ctl -P ${root}/site/bird.pid`]);
  });

  it('takes down an interface the new download no longer has, and restarts BIRD with the new config', () => {
    const firstBird = Number(fs.readFileSync(path.join(root, 'site', 'bird.pid'), 'utf8'));
    run(bundleFor(hubs.slice(0, 2)), 'up');
    expect(up()).toEqual(['wg0', 'wg0h2']);
    expect(fs.existsSync(path.join(root, 'site', 'wireguard', 'wg0h3.conf'))).toBe(false);
    expect(fs.readFileSync(path.join(root, 'site', 'bird.conf'), 'utf8')).not.toContain('mp_10_0_0_3');
    expect(alive(firstBird)).toBe(false);
  });

  it('down leaves nothing up', () => {
    run(bundleFor(hubs.slice(0, 2)), 'down');
    expect(up()).toEqual([]);
    expect(fs.existsSync(path.join(root, 'site', 'bird.pid'))).toBe(false);
  });
});
