// Config delivery: renders a peer's configuration (a preview without keys, or the real one)
// and records the hash a peer received, so staleness is "rendering changed since then".
// The read side (OverlayView, OverlayReader) lives in overlay-view.ts and overlay-reader.ts.
import type { Db } from '../../infra/db/client.js';
import type { SecretBox } from '../../infra/crypto/secret-box.js';
import { type PubSub, publishWanChange } from '../../infra/pubsub/topics.js';
import { linuxBundleFileName } from '../../domain/render/linux-bundle.js';
import { renderQrSvg } from '../../domain/render/qr.js';
import { DomainError } from '../../domain/errors.js';
import { findCompiledPeer } from '../../domain/compile.js';
import { renderConfig, type ConfigFormat } from './overlay-view.js';
import { overlayView } from './overlay-cache.js';
import type { Identity } from '../auth/identity.js';
import { auditRow } from '../audit.js';

// Where the read side's users import it from.
export { OverlayView, statusOf, type ConfigFormat, type ConfigStatus } from './overlay-view.js';
export { OverlayReader } from './overlay-reader.js';

/** How each format is recorded as delivered (Peer.deliveredVia) for a peer without a device. */
const DELIVERED_VIA: Record<ConfigFormat, string> = { WG_QUICK: 'download:conf', ROUTEROS: 'download:rsc', LINUX_BUNDLE: 'download:bundle' };

export interface RenderedConfig {
  format: ConfigFormat;
  filename: string;
  content: string;
  hash: string;
}

function fileStem(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'peer';
}

export class ConfigDelivery {
  constructor(
    private readonly prisma: Db,
    private readonly secrets: SecretBox,
    private readonly pubsub: PubSub,
  ) {}

  /** The real config with keys, as the peer will run it; recorded as downloaded (and as delivered for a peer without a device). */
  /** QR codes are left to whoever shows them (renderQrSvg/renderQrPng of `content`): a code costs ~100 ms. */
  /** `ownerId`: only a peer this user owns (self-service); anyone else's is "not found" as a missing one is. */
  async download(actor: Identity, peerId: string, format: ConfigFormat, action = 'peer.downloadConfig', ownerId?: string): Promise<RenderedConfig> {
    const peer = await this.prisma.peer.findFirst({
      where: ownedOrAny(peerId, ownerId),
      select: { wanId: true, name: true, deviceId: true, deliveredHash: true, downloadedHash: true, wan: { select: { overlayRevision: true } } },
    });
    if (!peer) throw new DomainError('NOT_FOUND', 'Peer not found');
    // The WAN's cached view while its revision is unchanged: one peer's config rendered, its hash from the view.
    const view = await overlayView(this.prisma, this.secrets, peer.wanId, { revision: peer.wan.overlayRevision });
    const hash = view.hashOf(peerId);
    const content = renderConfig(view.compiled, peerId, format);
    const at = new Date();
    // A peer with a device runs what that device has: a download is an inspection and leaves
    // what the device confirmed alone. A manual peer runs what was downloaded for it.
    const delivered = peer.deviceId ? {} : { deliveredHash: hash, deliveredAt: at, deliveredVia: DELIVERED_VIA[format] };
    // One batch transaction: no interactive transaction's round trips on the hot path.
    await this.prisma.$transaction([
      this.prisma.peer.update({ where: { id: peerId }, data: { downloadedHash: hash, downloadedAt: at, ...delivered } }),
      this.prisma.auditLog.create({ data: auditRow(actor, { action, targetType: 'Peer', targetId: peerId, targetName: peer.name, details: { format } }) }),
    ]);
    if (peer.downloadedHash !== hash || (!peer.deviceId && peer.deliveredHash !== hash)) publishWanChange(this.pubsub, { kind: 'UPDATED', wanId: peer.wanId, entity: 'PEER', entityId: peerId });
    // wg-quick names the interface after the file (`wg-quick up ./wg0.conf` brings up wg0, at
    // most 15 characters), so the .conf is named after the interface its header names; a
    // RouterOS script names its interface inside, so the .rsc is named after the peer, and so
    // is the Linux bundle (which holds every interface: `sh meshplane-<peer>.sh up`).
    const filename = format === 'ROUTEROS' ? `${fileStem(peer.name)}.rsc`
      : format === 'LINUX_BUNDLE' ? linuxBundleFileName(view.compiled, peerId)
        : `${findCompiledPeer(view.compiled, peerId).interface.name}.conf`;
    return { format, filename, content, hash };
  }

  /**
   * The wg-quick config as a QR code for the WireGuard apps, rendered anew for each showing:
   * it holds the private key, so every showing is audited (peer.qr.view) and counts as a
   * download. A peer that brought its own key is refused: the code could not carry the key.
   */
  async qrCode(actor: Identity, peerId: string, ownerId?: string): Promise<PeerQrCode> {
    const peer = await this.prisma.peer.findFirst({ where: ownedOrAny(peerId, ownerId), select: { name: true, privateKeyEnc: true } });
    if (!peer) throw new DomainError('NOT_FOUND', 'Peer not found');
    if (!peer.privateKeyEnc) {
      throw new DomainError('INVALID_INPUT', `${peer.name} uses its own key, which Meshplane does not hold: a QR code could not carry it. Download the .conf and add the private key.`, { field: 'peerId' });
    }
    const config = await this.download(actor, peerId, 'WG_QUICK', 'peer.qr.view', ownerId);
    return { peerId, peerName: peer.name, filename: config.filename, qrSvg: await renderQrSvg(config.content) };
  }
}

/** The peer by id, and when `ownerId` is given only if that user owns it. */
function ownedOrAny(peerId: string, ownerId: string | undefined): { id: string; ownerId?: string } {
  return ownerId === undefined ? { id: peerId } : { id: peerId, ownerId };
}

export interface PeerQrCode {
  peerId: string;
  peerName: string;
  filename: string;
  /** null: the config is too long for a QR code even without its comments (a hub of many peers). */
  qrSvg: string | null;
}
