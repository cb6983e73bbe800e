// Pure: a reading as plan resources. Instances and peers named for this WAN, and objects
// whose description carries this WAN's tag, are managed; everything else is unmanaged and
// left alone. Secrets leave the reading at once: a private key becomes "pub:<its public
// key>" (derived here: the stored pubkey may be stale), a PSK "fp:<fingerprint>"; the keys
// themselves go to `held`, so an undo can write them back.
import type { ActualResource } from '../../domain/plan.js';
import { publicKeyFromPrivate } from '../../domain/keys.js';
import { sortedList } from './codec.js';
import { APPLY_KINDS, AREA_ORDER, KIND, KIND_SPECS } from './kinds.js';
import { natReferences } from './nat.js';
import type { OpnSenseReading, Row } from './reading.js';
import { keyOfName, parseDescr, parseKey, pskFingerprint, ref } from './tags.js';

export interface HeldSecrets {
  /** Public key → private key. */
  keys: Map<string, string>;
  /** Fingerprint → preshared key. */
  psks: Map<string, string>;
}

function derivedPublicKey(privateKey: string): string {
  try {
    return privateKey === '' ? '' : publicKeyFromPrivate(privateKey);
  } catch {
    return '';
  }
}

function pick(row: Row, props: readonly string[]): Record<string, string> {
  return Object.fromEntries(props.map((prop) => [prop, row[prop] ?? '']));
}

function ofWan(key: string | null, wanId: string): string | null {
  return key !== null && parseKey(key)?.wanId === wanId ? key : null;
}

/** `tunnelKeys`: managed instance keys besides the ones read (the desired one), so an assignment left without its instance is still found as Meshplane's. */
export function readingToActual(reading: OpnSenseReading, prefix: string, wanId: string, held?: HeldSecrets, tunnelKeys: readonly string[] = []): ActualResource[] {
  const resources: ActualResource[] = [{ kind: KIND.general, id: 'general', key: null, props: { enabled: reading.general.enabled ?? '0' } }];
  const serverSpec = KIND_SPECS[KIND.server]!;
  const clientSpec = KIND_SPECS[KIND.client]!;

  // An instance is referred to by its tag when it is Meshplane's (any WAN), else by its uuid.
  const instanceRef = new Map(reading.servers.map((server) => [server.uuid as string, keyOfName(server.name, prefix) === null ? (server.uuid as string) : ref(server.name as string)]));
  for (const server of reading.servers) {
    const privateKey = server.privkey ?? '';
    const publicKey = derivedPublicKey(privateKey);
    if (publicKey !== '') held?.keys.set(publicKey, privateKey);
    const props = pick(server, Object.keys(serverSpec.props).filter((prop) => prop !== 'privatekey'));
    props.tunneladdress = sortedList(props.tunneladdress ?? '');
    props.privatekey = `pub:${publicKey}`;
    resources.push({ kind: KIND.server, id: server.uuid as string, key: ofWan(keyOfName(server.name, prefix), wanId), props });
  }
  for (const client of reading.clients) {
    const psk = client.psk ?? '';
    const fingerprint = pskFingerprint(psk);
    if (fingerprint !== '') held?.psks.set(fingerprint, psk);
    const props = pick(client, Object.keys(clientSpec.props).filter((prop) => prop !== 'psk' && prop !== 'servers'));
    props.tunneladdress = sortedList(props.tunneladdress ?? '');
    props.psk = `fp:${fingerprint}`;
    props.servers = [...reading.membership.entries()].filter(([, peers]) => peers.includes(client.uuid as string)).map(([uuid]) => instanceRef.get(uuid) ?? uuid).sort().join(',');
    resources.push({ kind: KIND.client, id: client.uuid as string, key: ofWan(keyOfName(client.name, prefix), wanId), props });
  }
  const nat = natReferences(reading, prefix, tunnelKeys);
  for (const [kind, rows] of reading.objects) {
    const spec = KIND_SPECS[kind];
    if (!spec) continue;
    for (const row of rows) {
      const props = pick(row, Object.keys(spec.props));
      for (const [prop, codec] of Object.entries(spec.props)) props[prop] = codec === 'list' ? sortedList(props[prop] ?? '') : nat.readValue(kind, prop, props[prop] ?? '');
      const key = kind === KIND.assignment ? nat.assignmentKeyOf(row) : parseDescr(row.description, prefix).key;
      resources.push({ kind, id: row.uuid as string, key: ofWan(key, wanId), props });
    }
  }
  const pending = new Set(reading.marker?.areas ?? []);
  for (const area of AREA_ORDER) {
    resources.push({ kind: APPLY_KINDS[area], id: area, key: null, props: { applied: pending.has(area) ? 'false' : 'true' } });
  }
  return resources;
}
