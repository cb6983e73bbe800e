// The address this server reaches a device from, as the device sees it (when no NAT is in
// between): the local address of a UDP socket "connected" to it, which asks the kernel for the
// route and sends no packet. A WireGuard route over that address would send the firewall's
// replies to Meshplane into the tunnel, which no filter rollback undoes (preflight refuses it).
import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';

export async function localAddressTowards(host: string, port: number): Promise<string | null> {
  const socket = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(port, host, () => resolve());
    });
    return socket.address().address;
  } catch {
    return null;
  } finally {
    socket.close();
  }
}
