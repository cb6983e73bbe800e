import { describe, expect, it } from 'vitest';
import { bgpProtocolName } from '../../domain/render/bird.js';
import { parseBirdProtocols } from './bird-protocols.js';

// As BIRD 2.0.12 prints it (captured in the hub-redundancy lab), trailing spaces included; the
// last two mp6_ lines are names no address gives (a cut address, an IPv4 one).
const OUTPUT = [
  'BIRD 2.0.12 ready.',
  'Name       Proto      Table      State  Since         Info',
  'device1    Device     ---        up     13:44:55.848  ',
  'bfd1       BFD        ---        up     13:44:55.848  ',
  'mp_originate Static     master4    up     13:44:55.848  ',
  'kernel1    Kernel     master4    up     13:44:55.848  ',
  'mp_10_0_0_1 BGP        ---        up     13:44:56.513  Established   ',
  'mp_10_0_0_2 BGP        ---        start  13:44:56.083  Active        Socket: Connection refused',
  'mp_10_0_0_3 BGP        ---        start  13:44:56.083  Connect       ',
  'mp_10_0_0_4 BGP        ---        down   13:44:56.083  ',
  'mp_10_0_0_999 BGP        ---        up     13:44:56.513  Established   ',
  'other_bgp  BGP        ---        up     13:44:56.513  Established   ',
  'mp_originate6 Static     master6    up     13:44:55.848  ',
  'mp6_fd10_aaaa_bbbb__1 BGP        ---        up     13:44:56.513  Established   ',
  'mp6_fd10_aaaa_bbbb__2 BGP        ---        start  13:44:56.083  Active        Socket: Connection refused',
  'mp6___1    BGP        ---        up     13:44:56.513  Established   ',
  'mp6_fd10_aaaa_bbbb_ BGP        ---        up     13:44:56.513  Established   ',
  'mp6_10_0_0_1 BGP        ---        up     13:44:56.513  Established   ',
  '',
].join('\n');

describe('parseBirdProtocols', () => {
  it('reads the sessions of Meshplane\'s bird.conf, established only when up and Established', () => {
    expect(parseBirdProtocols(OUTPUT)).toEqual([
      { neighbourAddress: '10.0.0.1', established: true },
      { neighbourAddress: '10.0.0.2', established: false },
      { neighbourAddress: '10.0.0.3', established: false },
      { neighbourAddress: '10.0.0.4', established: false },
      { neighbourAddress: 'fd10:aaaa:bbbb::1', established: true },
      { neighbourAddress: 'fd10:aaaa:bbbb::2', established: false },
      { neighbourAddress: '::1', established: true },
    ]);
  });

  it('reads back the name bird.ts gives an IPv6 session as the canonical address', () => {
    const name = bgpProtocolName({ address: 'FD10:AAAA:BBBB:0::B' });
    expect(parseBirdProtocols(`${name} BGP        ---        up     13:44:56.513  Established   \n`)).toEqual([{ neighbourAddress: 'fd10:aaaa:bbbb::b', established: true }]);
  });

  it('finds nothing in an error or an empty answer', () => {
    expect(parseBirdProtocols('Unable to connect to server control socket (/x/bird.ctl): No such file or directory\n')).toEqual([]);
    expect(parseBirdProtocols('')).toEqual([]);
  });
});
