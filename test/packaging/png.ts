/** Just enough PNG reading for the icon tests: 8-bit RGBA, not interlaced (what Chromium writes). */
import { inflateSync } from 'node:zlib';

export interface Png {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlaced: boolean;
}

export interface DecodedPng extends Png {
  /** RGBA, row by row. */
  pixels: Uint8Array;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The IHDR chunk, which a PNG must start with right after its signature. */
export function readPngHeader(data: Buffer): Png {
  if (!data.subarray(0, 8).equals(SIGNATURE) || data.toString('latin1', 12, 16) !== 'IHDR') {
    throw new Error('not a PNG');
  }
  return {
    width: data.readUInt32BE(16),
    height: data.readUInt32BE(20),
    bitDepth: data.readUInt8(24),
    colorType: data.readUInt8(25),
    interlaced: data.readUInt8(28) !== 0,
  };
}

function paeth(left: number, up: number, upLeft: number): number {
  const estimate = left + up - upLeft;
  const [toLeft, toUp, toUpLeft] = [Math.abs(estimate - left), Math.abs(estimate - up), Math.abs(estimate - upLeft)];
  if (toLeft <= toUp && toLeft <= toUpLeft) return left;
  return toUp <= toUpLeft ? up : upLeft;
}

export function decodePng(data: Buffer): DecodedPng {
  const header = readPngHeader(data);
  if (header.bitDepth !== 8 || header.colorType !== 6 || header.interlaced) {
    throw new Error(`only 8-bit RGBA non-interlaced PNGs are supported (depth ${header.bitDepth}, type ${header.colorType})`);
  }
  const compressed: Buffer[] = [];
  for (let at = 8; at < data.length;) {
    const length = data.readUInt32BE(at);
    if (data.toString('latin1', at + 4, at + 8) === 'IDAT') compressed.push(data.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const filtered = inflateSync(Buffer.concat(compressed));
  const stride = header.width * 4;
  const pixels = new Uint8Array(stride * header.height);
  for (let row = 0; row < header.height; row++) {
    const filter = filtered[row * (stride + 1)];
    for (let column = 0; column < stride; column++) {
      const raw = filtered[row * (stride + 1) + 1 + column] ?? 0;
      const left = column >= 4 ? (pixels[row * stride + column - 4] ?? 0) : 0;
      const up = row > 0 ? (pixels[(row - 1) * stride + column] ?? 0) : 0;
      const upLeft = row > 0 && column >= 4 ? (pixels[(row - 1) * stride + column - 4] ?? 0) : 0;
      const predicted = [0, left, up, (left + up) >> 1, paeth(left, up, upLeft)][filter ?? 0] ?? 0;
      pixels[row * stride + column] = (raw + predicted) & 0xff;
    }
  }
  return { ...header, pixels };
}
