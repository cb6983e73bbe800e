import { describe, expect, it } from 'vitest';
import { DeviceError } from '../driver.js';
import { FakeRunner } from './__fixtures__/fake-runner.js';
import { hasNetAdmin, probeLinuxHost } from './probe.js';

describe('probeLinuxHost', () => {
  it('reads CAP_NET_ADMIN from the effective capability set', () => {
    expect(hasNetAdmin('Name:\tnode\nCapEff:\t000001ffffffffff\n')).toBe(true);
    expect(hasNetAdmin('CapEff:\t0000000000001000\n')).toBe(true);
    expect(hasNetAdmin('CapEff:\t0000000000000fff\n')).toBe(false);
    expect(hasNetAdmin('no such line')).toBe(false);
  });

  it('reports the tool versions and the WireGuard implementation', async () => {
    const runner = new FakeRunner([
      ['wg --version', 'wireguard-tools v1.0.20210914 - https://git.zx2c4.com/wireguard-tools/\n'],
      ['ip -V', 'ip utility, iproute2-6.1.0, libbpf 1.1.2\n'],
      ['iptables -V', 'iptables v1.8.9 (nf_tables)\n'],
      ['wireguard-go --version', 'wireguard-go v0.0.20220316\n\nUserspace WireGuard daemon for linux-amd64.\n'],
    ]);
    const report = await probeLinuxHost(runner, { implementation: 'userspace', wireguardGo: 'wireguard-go', manageFirewall: true });
    expect(report.reachable).toBe(true);
    expect(report.version).toBe('wireguard-tools v1.0.20210914 - https://git.zx2c4.com/wireguard-tools/; iproute2-6.1.0, libbpf 1.1.2; iptables v1.8.9 (nf_tables); wireguard-go v0.0.20220316');
  });

  it('is not reachable without the tools, and says which package to install', async () => {
    const runner = new FakeRunner([['wg --version', new DeviceError('UNREACHABLE', 'wg is not installed or not on PATH (running: wg --version)')]]);
    const report = await probeLinuxHost(runner, { implementation: 'auto', wireguardGo: 'wireguard-go', manageFirewall: true });
    expect(report).toMatchObject({ reachable: false, loggedIn: false, version: null });
    expect(report.message).toMatch(/wg is not installed.*apt-get install .*wireguard-tools/);
  });

  it('is not ready without a WireGuard implementation', async () => {
    const runner = new FakeRunner([
      ['wg --version', 'wireguard-tools v1\n'],
      ['ip -V', 'ip utility, iproute2-6.1.0\n'],
      ['wireguard-go', new DeviceError('UNREACHABLE', 'wireguard-go is not installed or not on PATH (running: wireguard-go --version)')],
    ]);
    const report = await probeLinuxHost(runner, { implementation: 'userspace', wireguardGo: 'wireguard-go', manageFirewall: false });
    expect(report.reachable).toBe(true);
    expect(report.loggedIn).toBe(false);
    expect(report.message).toMatch(/no working wireguard-go/);
  });
});
