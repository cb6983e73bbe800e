// A fresh self-signed certificate per simulator start (EC P-256, valid for 127.0.0.1 and
// localhost). Clients trust it by passing `caPem` as their CA — no `rejectUnauthorized:false`.
import { generate } from 'selfsigned';

export interface TlsCredentials {
  key: string;
  cert: string;
}

export async function generateSelfSignedCertificate(): Promise<TlsCredentials> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + 30 * 86_400_000);
  const pems = await generate([{ name: 'commonName', value: 'routeros-simulator' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      // CA:TRUE so the certificate can act as its own trust anchor for clients given it as `ca`.
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}
