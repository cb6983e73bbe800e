// A device that refuses the login, drops the connection or answers something unexpected is
// an operational failure the operator has to act on (fix the password, the network, the
// router), not a bug in Meshplane: the driver's DeviceError becomes a coded DomainError that
// names the device, so clients get DEVICE_* and a message instead of a masked
// INTERNAL_SERVER_ERROR. Driver messages carry no credentials (devices/*/errors.ts).
import { DeviceError } from '../devices/driver.js';
import { DomainError, type DeviceFailureCode } from '../domain/errors.js';

const CODES: Record<DeviceError['code'], DeviceFailureCode> = {
  UNREACHABLE: 'DEVICE_UNREACHABLE',
  TIMEOUT: 'DEVICE_TIMEOUT',
  TLS: 'DEVICE_TLS_FAILED',
  AUTH_FAILED: 'DEVICE_AUTH_FAILED',
  REFUSED: 'DEVICE_REFUSED',
  PROTOCOL: 'DEVICE_ERROR',
};

/** The client-facing error for a DeviceError of `device`; any other error is returned as it is. */
export function deviceFailure(error: unknown, device: { id: string; name: string }): unknown {
  if (!(error instanceof DeviceError)) return error;
  // The RouterOS drivers already name the device ("RouterOS edge-1 (API): …"); others may not.
  const message = error.message.includes(device.name) ? error.message : `Device ${device.name}: ${error.message}`;
  return new DomainError(CODES[error.code], message, { deviceId: device.id, device: device.name });
}
