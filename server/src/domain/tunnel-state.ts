// Whether a tunnel is up, from what the devices at its ends report and nothing else: a
// tunnel is UP when either end's device reports a fresh handshake with the other end, DOWN
// when an end's device reports and has none (or none fresh, or no such peer at all), and
// UNKNOWN when no end can report: neither is on a managed device, or the device is not
// read yet, reports no statistics or cannot be read now. Being online elsewhere proves
// nothing about this pair. Pure: the caller passes the time.

export type TunnelState = 'UP' | 'DOWN' | 'UNKNOWN';

/** What one end's device said on its last read: each remote it has, with its last handshake. */
export interface EndReport {
  observedAt: Date;
  /** Remote peer id to its last handshake (null: never); a remote missing here is not configured on the device. */
  remotes: ReadonlyMap<string, Date | null>;
  /**
   * Redundant hubs: remote peer id to whether the device's BGP session with it is established.
   * Absent when the device runs no routing the driver can read.
   */
  sessions?: ReadonlyMap<string, boolean>;
}

export interface TunnelEnd {
  peerId: string;
  name: string;
  /** Bound to a device that Meshplane reads. */
  managed: boolean;
  /** Why the end cannot report now although managed (device unreachable, no statistics, not read yet); null when it can. */
  silent: string | null;
  report: EndReport | null;
}

export interface TunnelStatus {
  /** The two peers, smaller id first (as topology edges). */
  a: string;
  b: string;
  state: TunnelState;
  /** The newest handshake either end reported for this pair (null: none, or nobody reports). */
  lastHandshake: Date | null;
  /** The end whose device the state comes from (null when UNKNOWN). */
  reportedBy: string | null;
  /** Why, in a sentence. */
  reason: string;
  /** Redundant hubs: the BGP session over the tunnel as an end's routing reports it; null when none does. */
  session: SessionState | null;
  sessionReportedBy: string | null;
}

type HandshakeStatus = Omit<TunnelStatus, 'session' | 'sessionReportedBy'>;

interface Reading {
  end: TunnelEnd;
  other: TunnelEnd;
  has: boolean;
  handshake: Date | null;
}

/** The time at which an UP tunnel turns DOWN without a new handshake; null when it is not UP. */
export function freshUntil(status: Pick<TunnelStatus, 'state' | 'lastHandshake'>, freshMs: number): Date | null {
  return status.state === 'UP' && status.lastHandshake ? new Date(status.lastHandshake.getTime() + freshMs) : null;
}

/**
 * The tunnel's state. Where an end's routing reports the BGP session over the tunnel
 * (redundant hubs), the session decides: it runs BFD every 200 ms and notices a dead far end
 * within a second, while the last handshake stays fresh for minutes after the far end is gone.
 */
export function tunnelStatus(first: TunnelEnd, second: TunnelEnd, options: { now: Date; freshMs: number }): TunnelStatus {
  const sessionFields = sessionStatus(first, second);
  const status = { ...handshakeStatus(first, second, options), ...sessionFields };
  const { session, sessionReportedBy } = sessionFields;
  if (session === null) return status;
  const reporter = sessionReportedBy === first.peerId ? first : second;
  const other = reporter === first ? second : first;
  if (session === 'DOWN' && status.state !== 'DOWN') {
    return { ...status, state: 'DOWN', reportedBy: reporter.peerId, reason: `${reporter.name}'s routing reports its BGP session with ${other.name} down (BFD notices a dead tunnel within a second)` };
  }
  if (session === 'ESTABLISHED' && status.state !== 'UP') {
    return { ...status, state: 'UP', reportedBy: reporter.peerId, reason: `${reporter.name}'s routing reports its BGP session with ${other.name} established` };
  }
  return status;
}

function handshakeStatus(first: TunnelEnd, second: TunnelEnd, options: { now: Date; freshMs: number }): HandshakeStatus {
  const [a, b] = first.peerId < second.peerId ? [first, second] : [second, first];
  const readings: Reading[] = [];
  for (const [end, other] of [[a, b], [b, a]] as const) {
    if (!end.managed || end.silent !== null || !end.report) continue;
    const has = end.report.remotes.has(other.peerId);
    readings.push({ end, other, has, handshake: has ? (end.report.remotes.get(other.peerId) ?? null) : null });
  }
  const base = { a: a.peerId, b: b.peerId };
  const newest = readings.filter((reading) => reading.handshake !== null).sort((x, y) => y.handshake!.getTime() - x.handshake!.getTime())[0];
  const ageSeconds = (at: Date) => Math.max(0, Math.round((options.now.getTime() - at.getTime()) / 1000));
  if (newest && options.now.getTime() - newest.handshake!.getTime() < options.freshMs) {
    return { ...base, state: 'UP', lastHandshake: newest.handshake, reportedBy: newest.end.peerId, reason: `${newest.end.name}'s device reports a handshake with ${newest.other.name} ${ageSeconds(newest.handshake!)} s ago` };
  }
  if (readings.length > 0) {
    const said = newest ?? readings[0]!;
    const why = newest
      ? `${said.end.name}'s device last reports a handshake with ${said.other.name} ${ageSeconds(newest.handshake!)} s ago (fresh means within ${Math.round(options.freshMs / 1000)} s)`
      : said.has
        ? `${said.end.name}'s device reports no handshake with ${said.other.name}`
        : `${said.end.name}'s device has no peer ${said.other.name}`;
    return { ...base, state: 'DOWN', lastHandshake: newest?.handshake ?? null, reportedBy: said.end.peerId, reason: why };
  }
  const silent = [a, b].filter((end) => end.managed);
  const reason = silent.length === 0
    ? `neither ${a.name} nor ${b.name} is on a device Meshplane reads`
    : silent.map((end) => `${end.name}'s device ${end.silent ?? 'has not been read yet'}`).join('; ');
  return { ...base, state: 'UNKNOWN', lastHandshake: null, reportedBy: null, reason };
}

export type SessionState = 'ESTABLISHED' | 'DOWN';

/**
 * The BGP session over a tunnel (redundant hubs), as an end's device reports it: ESTABLISHED
 * when either end's routing says so, DOWN when an end reports the session and neither says
 * established, null when no end that can report runs one with the other.
 */
function sessionStatus(first: TunnelEnd, second: TunnelEnd): Pick<TunnelStatus, 'session' | 'sessionReportedBy'> {
  let down: string | null = null;
  for (const [end, other] of [[first, second], [second, first]] as const) {
    if (!end.managed || end.silent !== null) continue;
    const established = end.report?.sessions?.get(other.peerId);
    if (established === true) return { session: 'ESTABLISHED', sessionReportedBy: end.peerId };
    if (established === false) down ??= end.peerId;
  }
  return down === null ? { session: null, sessionReportedBy: null } : { session: 'DOWN', sessionReportedBy: down };
}
