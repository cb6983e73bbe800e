// Pure translation between device objects (typed JSON) and plan props (strings).
import type { KindSpec } from './kinds.js';

export type DeviceObject = Record<string, unknown>;

/** Reads device names as plan references (tag references for managed objects). */
export interface RefReader {
  tunnelRef(name: string): string;
  interfaceRef(value: string): string;
}

/** Turns plan references back into what the device expects right now. */
export interface RefResolver {
  tunnelName(value: string): string;
  interfaceValue(value: string): string;
}

export function joinCidrs(cidrs: readonly string[]): string {
  return [...cidrs].sort().join(',');
}

function text(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

export function decodeProps(spec: KindSpec, obj: DeviceObject, refs: RefReader): Record<string, string> {
  const props: Record<string, string> = {};
  for (const [name, codec] of Object.entries(spec.props)) {
    const value = obj[name];
    switch (codec) {
      case 'bool':
        props[name] = value === true ? 'true' : 'false';
        break;
      case 'cidrs':
        props[name] = joinCidrs((Array.isArray(value) ? value : []).map((entry: { address?: unknown; mask?: unknown }) => `${text(entry.address)}/${text(entry.mask)}`));
        break;
      case 'tunnel':
        props[name] = refs.tunnelRef(text(value));
        break;
      case 'iface':
        props[name] = refs.interfaceRef(text(value));
        break;
      case 'ifaces':
        props[name] = (Array.isArray(value) ? value : [value]).map((entry) => refs.interfaceRef(text(entry))).join(',');
        break;
      case 'priorities':
        props[name] = joinPriorities((Array.isArray(value) ? value : []).map((entry: { gateway?: unknown; tier?: unknown }) => ({ gateway: text(entry.gateway), tier: Number(entry.tier) })));
        break;
      default:
        props[name] = text(value);
    }
  }
  return props;
}

export interface GroupMember {
  gateway: string;
  tier: number;
}

/** A gateway group's members as one comparable prop, in name order. */
export function joinPriorities(members: readonly GroupMember[]): string {
  return members.map((member) => `${member.gateway}:${member.tier}`).sort().join(',');
}

function priorityList(value: string): GroupMember[] {
  if (value === '') return [];
  return value.split(',').map((entry) => {
    const [gateway = '', tier = ''] = entry.split(':');
    return { gateway, tier: Number(tier) };
  });
}

function cidrList(value: string): Array<{ address: string; mask: number }> {
  if (value === '') return [];
  return value.split(',').map((cidr) => {
    const [address = '', mask = ''] = cidr.split('/');
    return { address, mask: Number(mask) };
  });
}

/** The JSON body for a create or an update of the given props (read-only props are dropped). */
export function encodeBody(spec: KindSpec, props: Readonly<Record<string, string>>, resolver: RefResolver): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(props)) {
    const codec = spec.props[name];
    switch (codec) {
      case undefined:
      case 'readOnly':
        break;
      case 'optString':
        body[name] = value === '' ? null : value;
        break;
      case 'int':
        body[name] = Number(value);
        break;
      case 'optInt':
        body[name] = value === '' ? null : Number(value);
        break;
      case 'bool':
        body[name] = value === 'true';
        break;
      case 'cidrs':
        body[name] = cidrList(value);
        break;
      case 'tunnel':
        body[name] = resolver.tunnelName(value);
        break;
      case 'iface':
        body[name] = resolver.interfaceValue(value);
        break;
      case 'ifaces':
        body[name] = value.split(',').map((entry) => resolver.interfaceValue(entry));
        break;
      case 'priorities':
        body[name] = priorityList(value);
        break;
      default:
        body[name] = value;
    }
  }
  return body;
}
