// The self-service portal's API: the WANs open for self-service and the caller's own peers,
// as types of their own that lead nowhere else (no Wan, Peer, Device or User behind them), so
// a self-service user reads nothing of the network beyond their devices. `role: 'SELF_SERVICE'`
// is the lowest role: every signed-in user may use these for their own peers.
import { builder } from '../builder.js';
import { nameText } from './input-rules.js';
import { ConfigFormatEnum, ConfigStatusEnum, PeerQrCodeRef, RenderedConfigRef } from './overlay.js';
import type { Peer as PeerRow } from '../../generated/prisma/client.js';
import { DEVICE_NAME_MAX, type SelfServiceWan } from '../../services/auth/self-service.js';

type OwnPeer = PeerRow & { wan: { name: string } };

const SelfServiceWanRef = builder.objectRef<SelfServiceWan>('SelfServiceWan').implement({
  description: 'A WAN open for self-service, as its users see it: only its name and their room in it.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    peerLimit: t.exposeInt('peerLimit', { description: 'How many devices one user may have here.' }),
    myPeerCount: t.exposeInt('myPeerCount', { description: 'How many the caller has here now.' }),
  }),
});

const MyPeerRef = builder.objectRef<OwnPeer>('MyPeer').implement({
  description: 'A peer of the caller\'s own (a self-service device).',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name', { description: 'The peer\'s name in its WAN: the owner\'s e-mail local part, then the device name they gave ("alice-laptop").' }),
    wanId: t.exposeID('wanId'),
    wanName: t.string({ resolve: (peer) => peer.wan.name }),
    tunnelIp: t.exposeString('tunnelIp'),
    tunnelIp6: t.exposeString('tunnelIp6', { nullable: true }),
    enabled: t.exposeBoolean('enabled', { description: 'false: an admin switched the device off (or it expired); its tunnels are down.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    configStatus: t.field({
      type: ConfigStatusEnum,
      description: 'NEVER_DELIVERED: not downloaded yet; CURRENT: the last download is what would be rendered now; STALE: download it again.',
      resolve: (peer, _args, ctx) => ctx.overlays.configStatus(peer),
    }),
    downloadedAt: t.expose('downloadedAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const CreateMyPeerInput = builder.inputType('CreateMyPeerInput', {
  fields: (t) => ({
    wanId: t.id({ required: true, description: 'A WAN of selfServiceWans.' }),
    name: t.string({ required: true, description: `The device's name (at most ${DEVICE_NAME_MAX} characters), e.g. laptop.`, validate: { schema: nameText(DEVICE_NAME_MAX) } }),
  }),
});

builder.queryFields((t) => ({
  selfServiceWans: t.field({
    type: [SelfServiceWanRef],
    authScopes: { role: 'SELF_SERVICE' },
    description: 'The WANs open for self-service, by name, with how many devices the caller has in each and may have.',
    resolve: (_root, _args, ctx) => ctx.services.selfService.openWans(ctx.identity!),
  }),
  myPeers: t.field({
    type: [MyPeerRef],
    authScopes: { role: 'SELF_SERVICE' },
    description: 'The caller\'s own peers in every WAN (also WANs closed for self-service since), oldest first.',
    resolve: (_root, _args, ctx) => ctx.services.selfService.myPeers(ctx.identity!),
  }),
}));

builder.mutationFields((t) => ({
  createMyPeer: t.field({
    type: MyPeerRef,
    authScopes: { role: 'SELF_SERVICE' },
    description: 'Adds a CLIENT peer of the caller\'s own to a WAN open for self-service: the next free tunnel address, a key pair made by Meshplane, no device and no LANs. Refused with LIMIT_REACHED at the WAN\'s per-user limit, NOT_FOUND for a WAN that is not open.',
    args: { input: t.arg({ type: CreateMyPeerInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.selfService.createPeer(ctx.identity!, { wanId: String(input.wanId), name: input.name }),
  }),
  deleteMyPeer: t.id({
    authScopes: { role: 'SELF_SERVICE' },
    description: 'Deletes a peer of the caller\'s own (a lost device), like deletePeer; anyone else\'s is NOT_FOUND. Returns its id.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.services.selfService.deletePeer(ctx.identity!, String(id)),
  }),
  downloadMyPeerConfig: t.field({
    type: RenderedConfigRef,
    authScopes: { role: 'SELF_SERVICE' },
    description: 'downloadPeerConfig for a peer of the caller\'s own (recorded and audited the same way); anyone else\'s is NOT_FOUND.',
    args: { peerId: t.arg.id({ required: true }), format: t.arg({ type: ConfigFormatEnum, defaultValue: 'WG_QUICK' }) },
    resolve: (_root, { peerId, format }, ctx) => ctx.services.selfService.config(ctx.identity!, String(peerId), format ?? 'WG_QUICK'),
  }),
  showMyPeerQrCode: t.field({
    type: PeerQrCodeRef,
    authScopes: { role: 'SELF_SERVICE' },
    description: 'showPeerQrCode for a peer of the caller\'s own (audited as peer.qr.view); anyone else\'s is NOT_FOUND.',
    args: { peerId: t.arg.id({ required: true }) },
    resolve: (_root, { peerId }, ctx) => ctx.services.selfService.qrCode(ctx.identity!, String(peerId)),
  }),
}));
