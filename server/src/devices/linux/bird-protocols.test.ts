import { describe, expect, it } from 'vitest';
import { parseBirdProtocols } from './bird-protocols.js';

// As BIRD 2.0.12 prints it (captured in the hub-redundancy lab), trailing spaces included.
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
  '',
].join('\n');

describe('parseBirdProtocols', () => {
  it('reads the sessions of Meshplane\'s bird.conf, established only when up and Established', () => {
    expect(parseBirdProtocols(OUTPUT)).toEqual([
      { neighbourAddress: '10.0.0.1', established: true },
      { neighbourAddress: '10.0.0.2', established: false },
      { neighbourAddress: '10.0.0.3', established: false },
      { neighbourAddress: '10.0.0.4', established: false },
    ]);
  });

  it('finds nothing in an error or an empty answer', () => {
    expect(parseBirdProtocols('Unable to connect to server control socket (/x/bird.ctl): No such file or directory\n')).toEqual([]);
    expect(parseBirdProtocols('')).toEqual([]);
  });
});
