// What discover() reads from an OPNsense firewall (read-only): the WireGuard reading the
// planner uses, live figures from service/show, and, where the API key may read them, static
// routes, gateways and (26.7+) interface assignments. A list the key may not read is left
// out with a note naming the privilege; the WireGuard part is required.
import { DeviceError } from '../driver.js';
import type { Capabilities } from './capabilities.js';
import type { OpnSenseClient } from './client.js';
import { flatten, type DeviceObject } from './codec.js';
import type { OpnSenseDiscoveryReading } from './discover.js';
import { readOpnSense, type Row } from './reading.js';
import { SHOW_BODY, SHOW_COUNTERS, SHOW_PATH, type ShowRow } from './stats.js';

const SEARCH_ALL = { current: 1, rowCount: -1, searchPhrase: '' };

/** Rows of an optional list; null (and why, in `unreadable`) when the key may not read it. */
async function optional<T>(unreadable: string[], what: string, read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (error) {
    if (!(error instanceof DeviceError) || error.code !== 'AUTH_FAILED') throw error;
    unreadable.push(`${what} not read: ${error.message}`);
    return null;
  }
}

async function rows(client: OpnSenseClient, path: string): Promise<Row[]> {
  const reply = await client.call<{ rows?: DeviceObject[] }>('POST', path, { body: SEARCH_ALL });
  return (Array.isArray(reply.rows) ? reply.rows : []).map((row) => ({ ...flatten(row), uuid: String(row.uuid ?? '') }));
}

export async function readDiscovery(client: OpnSenseClient, prefix: string, capabilities: Capabilities): Promise<OpnSenseDiscoveryReading> {
  const unreadable: string[] = [];
  const [reading, show, routes, gateways, assignments] = await Promise.all([
    readOpnSense(client, prefix, []),
    optional(unreadable, 'handshakes and traffic', async () => {
      const reply = await client.call<{ rows?: ShowRow[] }>('POST', SHOW_PATH, { body: SHOW_BODY, counters: SHOW_COUNTERS });
      return Array.isArray(reply.rows) ? reply.rows : [];
    }),
    optional(unreadable, 'static routes', () => rows(client, 'routes/routes/searchroute')),
    optional(unreadable, 'gateways', () => rows(client, 'routing/settings/searchGateway')),
    capabilities.assignment ? optional(unreadable, 'interface assignments', () => rows(client, 'interfaces/assignment/searchItem')) : Promise.resolve(null),
  ]);
  return { servers: reading.servers, clients: reading.clients, membership: reading.membership, show, routes, gateways, assignments, assignmentApi: capabilities.assignment, unreadable };
}
