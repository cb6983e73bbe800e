// QR codes of a .conf for the WireGuard mobile apps. Medium error correction keeps a
// typical client config (~400 bytes) at a size phone cameras read easily.
import QRCode from 'qrcode';

const OPTIONS = { errorCorrectionLevel: 'M', margin: 2 } as const;

export function renderQrPng(text: string): Promise<Buffer> {
  return QRCode.toBuffer(text, { ...OPTIONS, type: 'png', width: 512 });
}

export function renderQrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { ...OPTIONS, type: 'svg' });
}
