import { describe, expect, it } from 'vitest';
import { parseWebhookUrl, refusedAddress, refusedHostName } from './webhook-target.js';

describe('webhook targets (SSRF guard)', () => {
  it('lets public unicast addresses through', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1']) expect(refusedAddress(address), address).toBeNull();
  });

  it('refuses every non-public range, in words', () => {
    const cases: Array<[string, string]> = [
      ['10.0.0.5', '10.0.0.5 is a private address'],
      ['172.16.0.1', '172.16.0.1 is a private address'],
      ['192.168.1.1', '192.168.1.1 is a private address'],
      ['127.0.0.1', '127.0.0.1 is a loopback address'],
      ['127.255.255.254', '127.255.255.254 is a loopback address'],
      ['169.254.169.254', '169.254.169.254 is a link-local address'],
      ['100.64.0.1', '100.64.0.1 is a carrier-grade NAT address'],
      ['0.0.0.0', '0.0.0.0 is the unspecified address'],
      ['255.255.255.255', '255.255.255.255 is the broadcast address'],
      ['224.0.0.1', '224.0.0.1 is a multicast address'],
      ['240.0.0.1', '240.0.0.1 is a reserved address'],
      ['::1', '::1 is a loopback address'],
      ['::', ':: is the unspecified address'],
      ['fe80::1', 'fe80::1 is a link-local address'],
      ['fc00::1', 'fc00::1 is a unique-local address'],
      ['fd12:3456::1', 'fd12:3456::1 is a unique-local address'],
      ['ff02::1', 'ff02::1 is a multicast address'],
      ['::ffff:127.0.0.1', '::ffff:127.0.0.1 embeds 127.0.0.1 is a loopback address'],
      ['::ffff:10.0.0.1', '::ffff:10.0.0.1 embeds 10.0.0.1 is a private address'],
      ['2002:a00:1::1', '2002:a00:1::1 embeds 10.0.0.1 is a private address'],
      ['64:ff9b::a9fe:a9fe', '64:ff9b::a9fe:a9fe embeds 169.254.169.254 is a link-local address'],
      // IPv4-compatible (deprecated) and other unallocated IPv6: ipaddr.js calls them unicast.
      ['::7f00:1', '::7f00:1 is a reserved address (outside the global unicast range 2000::/3)'],
      ['::2', '::2 is a reserved address (outside the global unicast range 2000::/3)'],
      ['4000::1', '4000::1 is a reserved address (outside the global unicast range 2000::/3)'],
    ];
    for (const [address, words] of cases) expect(refusedAddress(address), address).toBe(words);
    // ipaddr.js reads the dotted spelling of an IPv4-compatible address as IPv4-mapped: refused either way.
    expect(refusedAddress('::127.0.0.1')).not.toBeNull();
  });

  it('refuses names that mean this host whatever DNS says', () => {
    for (const name of ['localhost', 'LOCALHOST', 'localhost.', 'app.localhost', 'ip6-localhost', 'localhost.localdomain']) expect(refusedHostName(name), name).not.toBeNull();
    expect(refusedHostName('hooks.example.com')).toBeNull();
    expect(refusedHostName('localhost.example.com')).toBeNull();
  });

  it('parses URLs: http(s) only, no credentials, bounded, literals recognised in every spelling', () => {
    expect(parseWebhookUrl('https://hooks.example.com/x?y=1#frag')).toMatchObject({ host: 'hooks.example.com', literal: null });
    expect((parseWebhookUrl('https://hooks.example.com/x#frag') as { url: URL }).url.toString()).toBe('https://hooks.example.com/x');
    expect(parseWebhookUrl('http://[::1]:8080/')).toMatchObject({ host: '::1', literal: '::1' });
    expect(parseWebhookUrl('http://2130706433/')).toMatchObject({ literal: '127.0.0.1' });
    expect(parseWebhookUrl('http://0x7f.1/')).toMatchObject({ literal: '127.0.0.1' });
    expect(parseWebhookUrl('file:///etc/passwd')).toEqual({ error: 'must start with https:// or http://' });
    expect(parseWebhookUrl('gopher://x/')).toEqual({ error: 'must start with https:// or http://' });
    expect(parseWebhookUrl('https://u:p@example.com/')).toMatchObject({ error: expect.stringMatching(/user name or password/) });
    expect(parseWebhookUrl('not a url')).toMatchObject({ error: expect.stringMatching(/is not a URL/) });
    expect(parseWebhookUrl(`https://example.com/${'a'.repeat(3000)}`)).toMatchObject({ error: 'must be at most 2048 characters' });
  });
});
