// Where a form shows the server's refusals: every refused field beside its input at once, the
// API's field name dropped (the label says it), what no input of the form shows on top.
import { describe, expect, it } from 'vitest';
import { CombinedError } from '@urql/core';
import { GraphQLError } from 'graphql';
import { describeError, placeProblem } from '../../src/lib/api/errors.js';

const refused = (message: string, extensions: Record<string, unknown>) => describeError(new CombinedError({ graphQLErrors: [new GraphQLError(message, { extensions })] }));

describe('placeProblem', () => {
  it('places every field of an edge refusal beside its input, without the input path', () => {
    const problem = refused('input.listenPort: must be a whole number from 1 to 65535; input.mtu: must be a whole number from 1280 to 9000', {
      code: 'BAD_USER_INPUT',
      details: { fields: [{ path: 'input.listenPort', field: 'listenPort', message: 'must be a whole number from 1 to 65535' }, { path: 'input.mtu', field: 'mtu', message: 'must be a whole number from 1280 to 9000' }] },
    });
    expect(placeProblem(problem, ['name', 'listenPort', 'mtu'])).toEqual({
      top: undefined,
      byField: { listenPort: 'must be a whole number from 1 to 65535', mtu: 'must be a whole number from 1280 to 9000' },
    });
  });

  it('marks both fields of a cross-field rule, and puts a field the form lacks on top', () => {
    const problem = refused('"a" is dialled on port 443 but listens on 51820', {
      code: 'ENDPOINT_PORT_MISMATCH',
      details: { field: 'endpointPort', fields: [{ field: 'endpointPort', message: 'Endpoint port 443 is not …' }, { field: 'listenPort', message: 'Listen port 51820 is not …' }] },
    });
    expect(placeProblem(problem, ['endpointPort', 'listenPort']).byField).toEqual({ endpointPort: 'Endpoint port 443 is not …', listenPort: 'Listen port 51820 is not …' });
    expect(placeProblem(problem, ['endpointPort'])).toEqual({ top: 'Listen port 51820 is not …', byField: { endpointPort: 'Endpoint port 443 is not …' } });
  });

  it('drops the API name in front of a single-field message, and keeps other messages on top', () => {
    const one = refused('tunnelCidr must be /30 or larger to hold at least two peers', { code: 'INVALID_CIDR', details: { field: 'tunnelCidr' } });
    expect(placeProblem(one, ['tunnelCidr']).byField).toEqual({ tunnelCidr: 'must be /30 or larger to hold at least two peers' });
    const conflict = refused('Another WAN already uses this name', { code: 'CONFLICT', details: { field: 'name', fields: 'name' } });
    expect(placeProblem(conflict, ['name']).byField).toEqual({ name: 'Another WAN already uses this name' });
    const elsewhere = refused('Device not found', { code: 'NOT_FOUND' });
    expect(placeProblem(elsewhere, ['name'])).toEqual({ top: 'Device not found', byField: {} });
  });
});
