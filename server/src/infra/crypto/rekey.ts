// Master-key rotation: re-seals every secret stored in the database (peer private keys,
// preshared keys, device credentials, the sealed keys inside deployment history, OIDC sessions' ID tokens, webhook signing secrets) from
// the old master key to a new one, in ONE transaction: either everything moves to the new
// key or nothing does. Values already sealed with the new key are left alone, so running it
// again after an interruption is safe; a value sealed with any other key aborts it.
import type { Db } from '../db/client.js';
import { sealedKeyId, type SecretBox } from './secret-box.js';

export interface RekeyReport {
  peers: number;
  presharedKeys: number;
  devices: number;
  deployments: number;
  /** Sessions opened through OIDC (their provider ID token, for sign-out). */
  sessions: number;
  /** Webhook signing secrets. */
  webhooks: number;
}

type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];

const SEALED = /^v1:[0-9a-f]{12}:/;

class Resealer {
  constructor(
    private readonly from: SecretBox,
    private readonly to: SecretBox,
  ) {}

  /** The value sealed with the new key, or null when it already is. */
  reseal(sealed: string): string | null {
    const keyId = sealedKeyId(sealed);
    if (keyId === this.to.keyId) return null;
    if (keyId !== this.from.keyId) throw new Error(`a secret is sealed with master key ${keyId ?? '(none)'}, neither the old ${this.from.keyId} nor the new ${this.to.keyId}: nothing was changed`);
    const plaintext = this.from.open(sealed);
    const resealed = this.to.seal(plaintext);
    if (this.to.open(resealed) !== plaintext) throw new Error('re-sealed secret does not open with the new key: nothing was changed');
    return resealed;
  }

  /** Deployment history is JSON with sealed strings somewhere inside: re-seal each of them. */
  resealJson(json: string): string | null {
    let changed = false;
    const walk = (value: unknown): unknown => {
      if (typeof value === 'string' && SEALED.test(value)) {
        const resealed = this.reseal(value);
        if (resealed === null) return value;
        changed = true;
        return resealed;
      }
      if (Array.isArray(value)) return value.map(walk);
      if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, walk(inner)]));
      return value;
    };
    const next = JSON.stringify(walk(JSON.parse(json)));
    return changed ? next : null;
  }
}

async function resealColumn<Row extends { id: string }>(rows: Row[], value: (row: Row) => string | null, reseal: (text: string) => string | null, write: (id: string, resealed: string) => Promise<unknown>): Promise<number> {
  let count = 0;
  for (const row of rows) {
    const current = value(row);
    const resealed = current === null ? null : reseal(current);
    if (resealed === null) continue;
    await write(row.id, resealed);
    count++;
  }
  return count;
}

export async function resealAllSecrets(prisma: Db, from: SecretBox, to: SecretBox): Promise<RekeyReport> {
  if (from.keyId === to.keyId) throw new Error('the new master key is the current one');
  const resealer = new Resealer(from, to);
  const reseal = (text: string) => resealer.reseal(text);
  return prisma.$transaction(
    async (tx: Tx) => ({
      peers: await resealColumn(await tx.peer.findMany({ where: { privateKeyEnc: { not: null } }, select: { id: true, privateKeyEnc: true } }), (row) => row.privateKeyEnc, reseal, (id, privateKeyEnc) =>
        tx.peer.update({ where: { id }, data: { privateKeyEnc } }),
      ),
      presharedKeys: await resealColumn(await tx.presharedKey.findMany({ select: { id: true, keyEnc: true } }), (row) => row.keyEnc, reseal, (id, keyEnc) => tx.presharedKey.update({ where: { id }, data: { keyEnc } })),
      devices: await resealColumn(await tx.device.findMany({ where: { secretEnc: { not: null } }, select: { id: true, secretEnc: true } }), (row) => row.secretEnc, reseal, (id, secretEnc) =>
        tx.device.update({ where: { id }, data: { secretEnc } }),
      ),
      deployments: await resealColumn(await tx.deployment.findMany({ select: { id: true, desired: true } }), (row) => row.desired, (json) => resealer.resealJson(json), (id, desired) =>
        tx.deployment.update({ where: { id }, data: { desired } }),
      ),
      sessions: await resealColumn(await tx.session.findMany({ where: { oidcIdTokenEnc: { not: null } }, select: { id: true, oidcIdTokenEnc: true } }), (row) => row.oidcIdTokenEnc, reseal, (id, oidcIdTokenEnc) =>
        tx.session.update({ where: { id }, data: { oidcIdTokenEnc } }),
      ),
      webhooks: await resealColumn(await tx.webhook.findMany({ select: { id: true, secretEnc: true } }), (row) => row.secretEnc, reseal, (id, secretEnc) => tx.webhook.update({ where: { id }, data: { secretEnc } })),
    }),
    { timeout: 600_000, maxWait: 60_000 },
  );
}
