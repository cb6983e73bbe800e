// QR codes of a .conf for the WireGuard mobile apps. Medium error correction keeps a
// typical client config (~400 bytes) at a size phone cameras read easily.
import QRCode from 'qrcode';

// A hub's config lists every other peer and outgrows any QR code (the largest, version 40,
// holds 2331 bytes at level M): such a config has no QR code rather than failing its download.
const OPTIONS = { errorCorrectionLevel: 'M', margin: 2 } as const;
export const QR_MAX_BYTES = 2331;

export const fitsQr = (text: string): boolean => Buffer.byteLength(text, 'utf8') <= QR_MAX_BYTES;

/**
 * What the QR code holds: the config without its "#" comment lines, always. The apps ignore
 * them, and a smaller payload is a coarser code that phone cameras read from further away.
 * The downloaded .conf keeps them. null: too long even so (a hub listing every other peer).
 */
export function qrPayload(text: string): string | null {
  const bare = text.split('\n').filter((line) => !line.trimStart().startsWith('#')).join('\n');
  return fitsQr(bare) ? bare : null;
}

/** PNG of the text, or null when the text is too long for a QR code. */
export async function renderQrPng(text: string): Promise<Buffer | null> {
  const payload = qrPayload(text);
  return payload === null ? null : QRCode.toBuffer(payload, { ...OPTIONS, type: 'png', width: 512 });
}

/** SVG of the text, or null when the text is too long for a QR code. */
export async function renderQrSvg(text: string): Promise<string | null> {
  const payload = qrPayload(text);
  return payload === null ? null : QRCode.toString(payload, { ...OPTIONS, type: 'svg' });
}
