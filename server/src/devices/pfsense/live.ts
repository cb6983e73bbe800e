// The device as it is right now, while a plan is applied: lists are re-read after every
// write to them, because pfSense ids are positions that shift on delete (and on rule
// placement). Objects are found again by their descr tag, never by a remembered id.
import { DeviceError } from '../driver.js';
import type { PfSenseClient } from './client.js';
import type { DeviceObject, RefResolver } from './codec.js';
import { KIND, KIND_SPECS } from './kinds.js';
import { representInterface, type InterfaceRepresentation } from './snapshot.js';
import { parseDescr, tagOf, tunnelKeyForInterface } from './tags.js';

export class LiveState {
  private readonly lists = new Map<string, DeviceObject[]>();
  private representation: InterfaceRepresentation | null = null;

  constructor(private readonly client: PfSenseClient, private readonly prefix: string) {}

  async list(kind: string): Promise<DeviceObject[]> {
    const cached = this.lists.get(kind);
    if (cached) return cached;
    const spec = KIND_SPECS[kind];
    if (!spec) throw new DeviceError('PROTOCOL', `no list endpoint for ${kind}`);
    const fresh = await this.client.call<DeviceObject[]>('GET', spec.plural);
    this.lists.set(kind, fresh);
    return fresh;
  }

  invalidate(kind: string): void {
    this.lists.delete(kind);
  }

  /**
   * The object as an update in place returned it, in the list read before: an update moves
   * nothing, so adopting hundreds of peers does not read the whole list again after each one.
   */
  replace(kind: string, updated: DeviceObject): void {
    const cached = this.lists.get(kind);
    const index = cached?.findIndex((obj) => String(obj.id) === String(updated.id)) ?? -1;
    if (cached === undefined || index === -1) this.invalidate(kind);
    else this.lists.set(kind, cached.map((obj, at) => (at === index ? updated : obj)));
  }

  /** The object carrying the tag; with duplicates, the first (kept) or the last (a leftover). */
  async findByTag(kind: string, tag: string, pick: 'first' | 'last'): Promise<DeviceObject | undefined> {
    const matches = (await this.list(kind)).filter((obj) => parseDescr(obj.descr, this.prefix).tag === tag);
    return pick === 'first' ? matches[0] : matches.at(-1);
  }

  private async interfaceRepresentation(): Promise<InterfaceRepresentation> {
    if (this.representation === null) {
      const settings = await this.client.call<{ represent_interfaces_as?: string }>('GET', 'system/restapi/settings');
      const mode = settings.represent_interfaces_as;
      this.representation = mode === 'id' || mode === 'if' ? mode : 'descr';
    }
    return this.representation;
  }

  /** Resolves tag references against the current tunnels and interfaces. */
  async resolver(): Promise<RefResolver> {
    const [tunnels, interfaces, mode] = [await this.list(KIND.tunnel), await this.list(KIND.iface), await this.interfaceRepresentation()];
    const tunnelName = (value: string): string => {
      if (!value.startsWith('@')) return value;
      const tunnel = tunnels.find((candidate) => parseDescr(candidate.descr, this.prefix).tag === value.slice(1));
      if (!tunnel) throw new DeviceError('REFUSED', `the tunnel ${value.slice(1)} does not exist on the device`);
      return String(tunnel.name);
    };
    return {
      tunnelName,
      interfaceValue: (value) => {
        let iface: DeviceObject | undefined;
        if (value.startsWith('#')) {
          iface = interfaces.find((candidate) => String(candidate.id) === value.slice(1));
        } else if (value.startsWith('@')) {
          const tunnelKey = tunnelKeyForInterface(value.slice(this.prefix.length + 2));
          const port = tunnelKey === null ? null : tunnelName(`@${tagOf(this.prefix, tunnelKey)}`);
          iface = interfaces.find((candidate) => candidate.if === port);
        } else {
          return value;
        }
        if (!iface) throw new DeviceError('REFUSED', `the interface ${value.slice(1)} is not assigned on the device`);
        return representInterface(iface, mode);
      },
    };
  }
}
