// What a deployment stores to revert to keeps every key sealed: a peer of a WAN with redundant
// hubs carries its private key once per interface and a preshared key per remote on each.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { overlay, peer } from '../../domain/__fixtures__/overlay.js';
import { interfacesOf } from '../../domain/compiled.js';
import { compileOverlay, findCompiledPeer, generateKeyPair } from '../../domain/index.js';
import { SecretBox } from '../../infra/crypto/secret-box.js';
import { mapPeerSecrets } from './deployments.js';

describe('mapPeerSecrets (how Deployment.desired is sealed and opened)', () => {
  const spec = overlay([
    peer('h1', '10.0.0.1', { ...generateKeyPair(), role: 'HUB', endpointHost: '198.51.100.1' }),
    peer('h2', '10.0.0.2', { ...generateKeyPair(), role: 'HUB', endpointHost: '198.51.100.2' }),
    peer('s1', '10.0.0.3', { ...generateKeyPair(), endpointHost: null }),
  ], { topology: 'HUB_SPOKE', hubRedundancy: true });
  const psk = () => randomBytes(32).toString('base64');
  spec.presharedKeys = [
    { peerAId: 'h1', peerBId: 'h2', key: psk() },
    { peerAId: 'h1', peerBId: 's1', key: psk() },
    { peerAId: 'h2', peerBId: 's1', key: psk() },
  ];
  const box = new SecretBox(randomBytes(32));

  for (const id of ['h1', 's1']) {
    it(`seals every interface's key and every preshared key of ${id}, and opens them back`, () => {
      const compiled = findCompiledPeer(compileOverlay(spec), id);
      const views = interfacesOf(compiled);
      expect(views.length).toBe(2);
      const secrets = views.flatMap((view) => [view.interface.privateKey!, ...view.peers.map((remote) => remote.presharedKey!)]);
      expect(secrets.every((secret) => typeof secret === 'string' && secret.length > 0)).toBe(true);
      const sealed = mapPeerSecrets(compiled, (secret) => box.seal(secret));
      const stored = JSON.stringify(sealed);
      for (const secret of secrets) expect(stored).not.toContain(secret);
      expect(mapPeerSecrets(JSON.parse(stored), (value) => box.open(value))).toEqual(compiled);
    });
  }
});
