import { describe, expect, it } from 'vitest';
import { generateKeyPair, generatePresharedKey, isWireGuardKey, publicKeyFromPrivate } from './keys.js';

// RFC 7748 §6.1: Alice's private scalar and public key, hex → base64.
const ALICE_PRIVATE = Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex').toString('base64');
const ALICE_PUBLIC = Buffer.from('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a', 'hex').toString('base64');

describe('keys', () => {
  it('derives the RFC 7748 public key', () => {
    expect(publicKeyFromPrivate(ALICE_PRIVATE)).toBe(ALICE_PUBLIC);
  });

  it('generates clamped private keys whose public keys match', () => {
    for (let i = 0; i < 20; i++) {
      const { privateKey, publicKey } = generateKeyPair();
      expect(isWireGuardKey(privateKey) && isWireGuardKey(publicKey)).toBe(true);
      const bytes = Buffer.from(privateKey, 'base64');
      expect((bytes[0] as number) & 7).toBe(0);
      expect((bytes[31] as number) & 0xc0).toBe(0x40);
      expect(publicKeyFromPrivate(privateKey)).toBe(publicKey);
    }
  });

  it('generates distinct 32-byte preshared keys', () => {
    const a = generatePresharedKey();
    expect(isWireGuardKey(a)).toBe(true);
    expect(a).not.toBe(generatePresharedKey());
  });

  it('recognises only base64 of exactly 32 bytes', () => {
    expect(isWireGuardKey(ALICE_PUBLIC)).toBe(true);
    expect(isWireGuardKey(ALICE_PUBLIC.slice(0, 43))).toBe(false);
    expect(isWireGuardKey(`${ALICE_PUBLIC.slice(0, 42)}B=`)).toBe(false); // non-canonical last digit
    expect(isWireGuardKey(Buffer.alloc(33).toString('base64'))).toBe(false);
    expect(isWireGuardKey('<REPLACE-WITH-YOUR-PRIVATE-KEY>')).toBe(false);
    expect(() => publicKeyFromPrivate('nope')).toThrow(expect.objectContaining({ code: 'INVALID_KEY' }));
  });
});
