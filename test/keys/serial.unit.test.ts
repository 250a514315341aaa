import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSelfSignedCertificate, newSerialNumber } from '../../src/keys/generate.js';

describe('certificate serial numbers', () => {
  it('are always a minimal positive DER INTEGER (no leading zero byte, high bit clear)', () => {
    for (let i = 0; i < 20_000; i++) {
      const first = parseInt(newSerialNumber().slice(0, 2), 16);
      expect(first).toBeGreaterThanOrEqual(0x01);
      expect(first).toBeLessThanOrEqual(0x7f);
    }
  });

  it('give certificates OpenSSL parses, with that serial', () => {
    const { certPem } = createSelfSignedCertificate({ commonName: 'serial.test', bits: 2048, days: 1 });
    const serial = new X509Certificate(certPem).serialNumber;
    expect(serial).toMatch(/^[0-7][0-9A-F]{31}$/);
    expect(serial.startsWith('00')).toBe(false);
  });
});
