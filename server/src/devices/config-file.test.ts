import { describe, expect, it } from 'vitest';
import { ConfigFileError, parseConfig } from './config-file.js';

const yaml = `
backend:
  default: edge-1
devices:
  - name: edge-1
    kind: ROUTEROS_API
    host: 192.0.2.1
    port: 8729
    username: meshplane
    password: \${EDGE_PASSWORD}
  - name: fw
    kind: PFSENSE
    host: fw.example.net
    apiKey: literal-key
    tlsVerify: false
`;

describe('MESHPLANE_CONFIG parsing', () => {
  it('reads devices and the default backend, expanding credentials from the environment', () => {
    const config = parseConfig(yaml, '/tmp', { EDGE_PASSWORD: 's3cret' });
    expect(config.defaultDevice).toBe('edge-1');
    expect(config.devices.map((device) => [device.name, device.kind, device.secret, device.tls, device.tlsVerify, device.concurrency])).toEqual([
      ['edge-1', 'ROUTEROS_API', 's3cret', true, true, 1],
      ['fw', 'PFSENSE', 'literal-key', true, false, 1],
    ]);
  });

  it('refuses a missing variable, an unknown default, unknown keys and duplicate names with a clear message', () => {
    expect(() => parseConfig(yaml, '/tmp', {})).toThrow(/\$\{EDGE_PASSWORD\}, which is not set/);
    expect(() => parseConfig('backend: { default: nope }\ndevices: []', '/tmp', {})).toThrow(ConfigFileError);
    expect(() => parseConfig('devices: [{ name: a, kind: LINUX, host: h, sudo: true }]', '/tmp', {})).toThrow(/devices\.0/);
    expect(() => parseConfig('devices: [{ name: a, kind: LINUX, host: h }, { name: a, kind: LINUX, host: h }]', '/tmp', {})).toThrow(/used twice/);
    expect(() => parseConfig('devices: [{ name: a, kind: CISCO, host: h }]', '/tmp', {})).toThrow(/kind/);
  });

  it('leaves non-credential fields literal: ${} in a host is refused by validation later, not expanded', () => {
    const config = parseConfig('devices: [{ name: a, kind: LINUX, host: "${HOME}" }]', '/tmp', { HOME: '/root' });
    expect(config.devices[0]!.host).toBe('${HOME}');
    expect(parseConfig('backend: { default: manual }', '/tmp', {}).defaultDevice).toBeNull();
  });

  it('takes TLS from the kind\'s own ports when the file does not say, and asks for it on any other port', () => {
    const device = (line: string) => parseConfig(`devices: [{ name: a, host: h, ${line} }]`, '/tmp', {}).devices[0]!.tls;
    expect(device('kind: ROUTEROS_API, port: 8728')).toBe(false);
    expect(device('kind: ROUTEROS_API, port: 8729')).toBe(true);
    expect(device('kind: ROUTEROS_API')).toBe(true);
    expect(device('kind: ROUTEROS_REST, port: 80')).toBe(false);
    expect(device('kind: PFSENSE, port: 443')).toBe(true);
    expect(device('kind: ROUTEROS_API, port: 8728, tls: true')).toBe(true);
    expect(device('kind: PFSENSE, port: 8443, tls: true')).toBe(true);
    expect(() => device('kind: ROUTEROS_REST, port: 8443')).toThrow(/devices\[0\] \(a\)\.tls: say whether port 8443 speaks TLS/);
  });
});
