// QR codes of a .conf for the WireGuard mobile apps. Medium error correction keeps a
// typical client config (~400 bytes) at a size phone cameras read easily.
import QRCode from 'qrcode';

// A hub's config lists every other peer and outgrows any QR code (the largest, version 40,
// holds 2331 bytes at level M): such a config has no QR code rather than failing its download.
const OPTIONS = { errorCorrectionLevel: 'M', margin: 2 } as const;
export const QR_MAX_BYTES = 2331;

export const fitsQr = (text: string): boolean => Buffer.byteLength(text, 'utf8') <= QR_MAX_BYTES;

/** PNG of the text, or null when the text is too long for a QR code. */
export async function renderQrPng(text: string): Promise<Buffer | null> {
  return fitsQr(text) ? QRCode.toBuffer(text, { ...OPTIONS, type: 'png', width: 512 }) : null;
}

/** SVG of the text, or null when the text is too long for a QR code. */
export async function renderQrSvg(text: string): Promise<string | null> {
  return fitsQr(text) ? QRCode.toString(text, { ...OPTIONS, type: 'svg' }) : null;
}
