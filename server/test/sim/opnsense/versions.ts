// What changed between OPNsense releases (/work/shared/ref/opnsense.md §1.3–§1.6, §2.1, §3.1), as
// named switches: code asks `features.x` instead of comparing version strings in place.
import { compareVersions } from '../shared/version.js';

/** How a search row renders multi-value and option fields (§1.6). */
export type SearchShape =
  /** 24.1: fixed field lists, selected labels joined by "," */
  | 'fixed-comma'
  /** 24.7 – 25.1.2: fixed field lists (client + servers), labels joined by ", " */
  | 'fixed-labels'
  /** 25.1.3 – 25.7.0: all fields, labels joined by ", " */
  | 'all-labels'
  /** 25.7.1+: all flat fields, raw values (UUIDs), "%field" labels where different */
  | 'raw';

export interface VersionFeatures {
  readonly version: string;
  /** Core WireGuard (24.1+); before that the os-wireguard plugin 2.x. */
  readonly core: boolean;
  /** Unknown endpoint: 404 {"errorMessage":"Endpoint not found"} (24.7+) or Phalcon's 400 (≤24.1). */
  readonly dispatchStatus: 404 | 400;
  /** Errors carry errorLevel (26.7+). */
  readonly errorLevel: boolean;
  /** ≤24.1: every PHP error renders "<file>:<line>: <msg>" with a trace. */
  readonly phalconErrors: boolean;
  /** Read-form maps for a scalar: 26.1.11+ "Invalid input type", before "Array to string conversion". */
  readonly invalidInputType: boolean;
  readonly searchShape: SearchShape;
  /** 25.1.3 – 25.7.0: server search rows lack `interface`. */
  readonly searchMissingInterface: boolean;
  /** 26.7+: get emits "%field" labels for leaves whose description differs. */
  readonly percentKeysInGet: boolean;
  /** 26.1+: a search token that is a UUID matches the uuid column. */
  readonly searchMatchesUuid: boolean;
  /** First free `instance` number (1 on 24.1.0, 0 from 24.1.1). */
  readonly firstInstance: number;
  /** 24.1.3+: peer unique by pubkey+serveraddress+serverport; server pubkey optional. */
  readonly peerUniqueTriple: boolean;
  /** 24.1.4+: peer tunneladdress needs a mask. */
  readonly peerMaskRequired: boolean;
  /** 24.1.6+: delClient unlinks the peer from every instance. */
  readonly delClientUnlinks: boolean;
  /** 24.1+: client `servers` (write-through membership) and `client/psk`. */
  readonly clientServers: boolean;
  /** 24.7+: client `listServers`, `servers` in search rows. */
  readonly listServers: boolean;
  /** 25.1.2+: show rows carry peer-status and handshake age/epoch. */
  readonly showAge: boolean;
  /** 24.1.4+: show names peers by interface + key (pubkey alone before). */
  readonly showNamesByInterface: boolean;
  /** Keepalive upper bound (65535 from 25.7.8, 86400 before). */
  readonly keepaliveMax: number;
  /** 25.7.6+: instance `debug` flag. */
  readonly instanceDebug: boolean;
  /** After 26.7.2: instance tunneladdress needs a mask. */
  readonly instanceMaskRequired: boolean;
  /** ≤26.1: filter savepoint / apply/<rev> / cancelRollback / revert. */
  readonly savepoint: boolean;
  /** 24.7+: firewall/one_to_one API. */
  readonly oneToOne: boolean;
  /** 26.7+: interfaces/assignment API. */
  readonly assignment: boolean;
  /** Static route flag: `enabled` (26.7+) or `disabled` (before). */
  readonly routeFlag: 'enabled' | 'disabled';
  /** 24.7.0 only: JSON bodies ignored for API-key calls. */
  readonly regression_24_7_0: boolean;
  /** 24.7+: malformed JSON reads as {}; ≤24.1 it is a 500. */
  readonly malformedJsonIsEmpty: boolean;
}

export const DEFAULT_VERSION = '26.7.2';

export function atLeast(version: string, minimum: string): boolean {
  return compareVersions(version, minimum) >= 0;
}

export function versionFeatures(version: string): VersionFeatures {
  const at = (minimum: string) => atLeast(version, minimum);
  const searchShape: SearchShape = at('25.7.1') ? 'raw' : at('25.1.3') ? 'all-labels' : at('24.7') ? 'fixed-labels' : 'fixed-comma';
  return {
    version,
    core: at('24.1'),
    dispatchStatus: at('24.7') ? 404 : 400,
    errorLevel: at('26.7'),
    phalconErrors: !at('24.7'),
    invalidInputType: at('26.1.11'),
    searchShape,
    searchMissingInterface: at('25.1.3') && !at('25.7.1'),
    percentKeysInGet: at('26.7'),
    searchMatchesUuid: at('26.1'),
    firstInstance: at('24.1.1') ? 0 : 1,
    peerUniqueTriple: at('24.1.3'),
    peerMaskRequired: at('24.1.4'),
    delClientUnlinks: at('24.1.6'),
    clientServers: at('24.1'),
    listServers: at('24.7'),
    showAge: at('25.1.2'),
    showNamesByInterface: at('24.1.4'),
    keepaliveMax: at('25.7.8') ? 65535 : 86400,
    instanceDebug: at('25.7.6'),
    instanceMaskRequired: at('26.7.3'),
    savepoint: !at('26.7'),
    oneToOne: at('24.7'),
    assignment: at('26.7'),
    routeFlag: at('26.7') ? 'enabled' : 'disabled',
    regression_24_7_0: compareVersions(version, '24.7') === 0,
    malformedJsonIsEmpty: at('24.7'),
  };
}
