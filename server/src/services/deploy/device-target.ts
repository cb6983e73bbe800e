// A stored device as a driver needs it: connection settings with the credential unsealed.
import type { Db } from '../../infra/db/client.js';
import type { SecretBox } from '../../infra/crypto/secret-box.js';
import type { DeviceTarget } from '../../devices/driver.js';
import { DomainError } from '../../domain/errors.js';

export async function deviceTarget(prisma: Pick<Db, 'device'>, secrets: SecretBox, deviceId: string): Promise<DeviceTarget> {
  const device = await prisma.device.findUnique({ where: { id: deviceId } });
  if (!device) throw new DomainError('NOT_FOUND', 'Device not found');
  return {
    id: device.id,
    name: device.name,
    kind: device.kind,
    host: device.host,
    port: device.port,
    username: device.username,
    secret: device.secretEnc ? secrets.open(device.secretEnc) : null,
    tls: device.tls,
    tlsVerify: device.tlsVerify,
    caPem: device.caPem,
    timeoutMs: device.timeoutMs,
    concurrency: device.concurrency,
  };
}
