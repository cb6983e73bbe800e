// A device that refuses the login, drops the connection or answers something unexpected is
// an operational failure the operator has to act on (fix the password, the network, the
// router), not a bug in Meshplane: the driver's DeviceError becomes a coded DomainError that
// names the device, so clients get DEVICE_* and a message instead of a masked
// INTERNAL_SERVER_ERROR. Driver messages carry no credentials (devices/*/errors.ts).
import { DeviceError } from '../../devices/driver.js';
import { DomainError, type DeviceFailureCode } from '../../domain/errors.js';
import { redactSecrets } from '../../domain/secret-masking.js';
import { FAULT_CODES } from '../../domain/device-health.js';

const CODES: Record<DeviceError['code'], DeviceFailureCode> = FAULT_CODES;

/** The client-facing error for a DeviceError of `device`; any other error is returned as it is. */
export function deviceFailure(error: unknown, device: { id: string; name: string }): unknown {
  if (!(error instanceof DeviceError)) return error;
  // The RouterOS drivers already name the device ("RouterOS edge-1 (API): …"); others may not.
  const message = error.message.includes(device.name) ? error.message : `Device ${device.name}: ${error.message}`;
  return new DomainError(CODES[error.code], message, { deviceId: device.id, device: device.name });
}

/**
 * The error with every known secret (the device credential, the peer's keys) cut out of its
 * message, of the same class and code: a device may quote back a value it refused.
 */
export function redactError(error: unknown, secrets: ReadonlyArray<string | null>): unknown {
  if (!(error instanceof Error)) return error;
  const message = redactSecrets(error.message, secrets);
  if (message === error.message) return error;
  if (error instanceof DeviceError) return new DeviceError(error.code, message);
  if (error instanceof DomainError) return new DomainError(error.code, message, error.details);
  return new Error(message);
}
