// `/ping` (routeros.md §3.11): one row per probe with running totals. Whether a probe is
// answered is the model's call (`reachable`); RTTs are made up but deterministic.
import type { Row } from './query.js';
import { traps } from './trap.js';
import { isIpAddress } from './ip-prefix.js';
import { formatRtt, parseDuration } from './values.js';

export const PING_COMMANDS = ['/ping', '/tool/ping'];

export const MAX_COUNT = 10_000;

const PING_ARGUMENTS = ['address', 'count', 'interval', 'size', 'ttl', 'src-address', 'interface', 'vrf', 'dscp', 'do-not-fragment', 'arp-ping'];

export interface PingRequest {
  address: string;
  /** undefined = until cancelled (the API) or the REST session timeout. */
  count: number | undefined;
  intervalMs: number;
  size: number;
}

export function parsePingRequest(attributes: Readonly<Record<string, string>>): PingRequest {
  for (const name of Object.keys(attributes)) {
    if (!PING_ARGUMENTS.includes(name)) throw traps.unknownParameter(name);
  }
  const address = attributes.address;
  if (address === undefined) throw traps.missing('address');
  if (!isIpAddress(address)) throw traps.invalidValue('address', address);
  const count = attributes.count === undefined ? undefined : Number(attributes.count);
  // RouterOS allows up to 4294967295; the simulator answers counted pings at once, so it
  // caps the count to keep that loop small.
  if (count !== undefined && (!Number.isInteger(count) || count < 1 || count > MAX_COUNT)) {
    throw traps.outOfRange('count', 1, MAX_COUNT);
  }
  const interval = attributes.interval === undefined ? 1 : parseDuration(attributes.interval);
  if (interval === undefined) throw traps.invalidValue('interval', attributes.interval!);
  return { address, count, intervalMs: Math.max(10, interval * 1000), size: Number(attributes.size ?? 56) };
}

/** Running state of one ping command; `probe()` yields the next row. */
export class PingRun {
  private seq = 0;
  private received = 0;
  private rtts: number[] = [];

  constructor(
    readonly request: PingRequest,
    private readonly reachable: (address: string) => boolean,
  ) {}

  get done(): boolean {
    return this.request.count !== undefined && this.seq >= this.request.count;
  }

  probe(): Row {
    const seq = this.seq;
    this.seq += 1;
    const base = { seq: String(seq), host: this.request.address, size: String(this.request.size) };
    const answered = this.reachable(this.request.address);
    if (answered) {
      this.received += 1;
      this.rtts.push(380 + ((seq * 37) % 100));
    }
    const totals = {
      sent: String(this.seq),
      received: String(this.received),
      'packet-loss': String(Math.round(((this.seq - this.received) * 100) / this.seq)),
    };
    if (!answered) return { ...base, status: 'timeout', ...totals };
    const rtt = this.rtts[this.rtts.length - 1]!;
    const avg = this.rtts.reduce((a, b) => a + b, 0) / this.rtts.length;
    return {
      ...base,
      ttl: '64',
      time: formatRtt(rtt),
      ...totals,
      'min-rtt': formatRtt(Math.min(...this.rtts)),
      'avg-rtt': formatRtt(avg),
      'max-rtt': formatRtt(Math.max(...this.rtts)),
    };
  }

  /** All rows of a counted ping at once. */
  all(): Row[] {
    const rows: Row[] = [];
    while (!this.done) rows.push(this.probe());
    return rows;
  }
}
