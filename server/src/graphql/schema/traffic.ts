// Traffic history on a peer: a series for its page's charts, a 24-hour sparkline for the peer
// table, and when a device last saw it. Every peer of a list asking in the same pass shares
// one read (relatedRows), so a page of peers is one statement, not one per peer.
import { builder } from '../builder.js';
import { relatedRows } from '../related-rows.js';
import { lastSeenOf } from '../../services/monitor/monitor-readings.js';
import { SPARKLINE, TRAFFIC_RANGES, type RangeSpec, type SeriesPoint, type TrafficRange } from '../../domain/traffic.js';

const TrafficRangeEnum = builder.enumType('TrafficRange', {
  values: {
    HOUR: { description: 'The last 60 minutes, a point per minute.' },
    DAY: { description: 'The last 24 hours, a point per minute.' },
    WEEK: { description: 'The last 7 days, a point per hour.' },
    MONTH: { description: 'The last 30 days, a point per hour.' },
  } as const satisfies Record<TrafficRange, unknown>,
});

const TrafficPoint = builder.objectRef<SeriesPoint>('TrafficPoint').implement({
  description: 'One bucket of a series. Rates and age are null when nothing was sampled in it (unknown, not zero).',
  fields: (t) => ({
    at: t.expose('at', { type: 'DateTime', description: 'Start of the bucket.' }),
    rxBytesPerSecond: t.exposeFloat('rxBytesPerSecond', { nullable: true, description: 'Average bytes per second the peer received over the overlay.' }),
    txBytesPerSecond: t.exposeFloat('txBytesPerSecond', { nullable: true, description: 'Average bytes per second the peer sent over the overlay.' }),
    handshakeAgeSeconds: t.exposeInt('handshakeAgeSeconds', { nullable: true, description: 'Age of the freshest handshake seen in the bucket; null also when there was none yet.' }),
  }),
});

const TrafficSeries = builder.objectRef<{ resolutionSeconds: number; points: SeriesPoint[] }>('TrafficSeries').implement({
  fields: (t) => ({
    resolutionSeconds: t.exposeInt('resolutionSeconds', { description: '60 or 3600.' }),
    points: t.expose('points', { type: [TrafficPoint], description: `Every bucket of the range, oldest first (at most ${TRAFFIC_RANGES.DAY.points}).` }),
  }),
});

type Ctx = Parameters<typeof relatedRows>[0] & { services: import('../../services/index.js').Services };

/** The peer's samples of a range, read with every other peer's asking for the same range in this pass. */
function samplesOf(ctx: Ctx, peerId: string, range: RangeSpec) {
  return relatedRows(ctx, `Peer.traffic ${range.resolution}x${range.points}`, {}, 'peerId', peerId, (_query, ids) => ctx.services.traffic.samples(ids, range));
}

builder.prismaObjectFields('Peer', (t) => ({
  traffic: t.field({
    type: TrafficSeries,
    description: 'Received and sent bytes per second and handshake age over a range, from the handshake monitor (services/monitor/traffic.ts says what is counted).',
    args: { range: t.arg({ type: TrafficRangeEnum, required: true }) },
    resolve: async (peer, { range }, ctx) => ctx.services.traffic.series(await samplesOf(ctx, peer.id, TRAFFIC_RANGES[range]), TRAFFIC_RANGES[range]),
  }),
  sparkline: t.field({
    type: ['Float'],
    nullable: { list: false, items: true },
    description: 'Received plus sent bytes per second, a value per hour of the last 24 (the current hour last); null: nothing sampled that hour.',
    resolve: async (peer, _args, ctx) =>
      ctx.services.traffic.series(await samplesOf(ctx, peer.id, SPARKLINE), SPARKLINE).points.map((point) => (point.rxBytesPerSecond === null || point.txBytesPerSecond === null ? null : point.rxBytesPerSecond + point.txBytesPerSecond)),
  }),
  lastSeen: t.field({
    type: 'DateTime',
    nullable: true,
    description: 'The latest handshake any device reported for this peer; null when never seen, or when no device reports it (then status is null too).',
    resolve: (peer, _args, ctx) => lastSeenOf(ctx.services.monitor.status(peer.id)),
  }),
}));
