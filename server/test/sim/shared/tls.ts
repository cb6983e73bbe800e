// A throwaway self-signed certificate for 127.0.0.1, made by openssl (argument arrays, no shell),
// for every HTTPS simulator (pfSense, OPNsense, OpenWrt).
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Certificate {
  keyPem: string;
  certPem: string;
}

export async function selfSignedCertificate(commonName = 'sim.localdomain'): Promise<Certificate> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sim-tls-'));
  try {
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${commonName}`,
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ], { timeout: 30_000 });
    return { keyPem: await fs.readFile(keyFile, 'utf8'), certPem: await fs.readFile(certFile, 'utf8') };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
