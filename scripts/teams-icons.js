#!/usr/bin/env node
/**
 * Draws the Teams app icons into teams-app/: color.png (192×192, a white key on the accent colour) and
 * outline.png (32×32, the same key in white on transparent, as Teams requires of outline icons).
 *
 * Run `node scripts/teams-icons.js` to regenerate them; the PNGs are committed, so this is only needed when the
 * drawing changes. Plain CommonJS with Node built-ins only (PNG = signature + IHDR + IDAT + IEND, zlib for
 * the pixels), so no image library is needed and the output is the same on every machine.
 */
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const OUT_DIR = path.resolve(__dirname, '..', 'teams-app');
/** Also the manifest's accentColor, so the icon and its tile match. */
const ACCENT = [0x1f, 0x4e, 0xd8];
/** Samples per pixel side: edges get partial coverage instead of stair steps. */
const SUPERSAMPLE = 4;

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 (ISO 3309), as PNG chunks need; written out rather than zlib.crc32 so older Node 20s work too. */
function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * Encodes RGBA pixels (width × height × 4 bytes, rows top to bottom) as an 8-bit RGBA PNG.
 * @param {number} width
 * @param {number} height
 * @param {Buffer} rgba
 * @returns {Buffer}
 */
function encodePng(width, height, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // bit depth 8, colour type 6 (RGBA), deflate, no filter method, no interlace
  const stride = width * 4;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0; // filter type None: the image is flat colour, deflate does the rest
    rgba.copy(raw, y * (stride + 1) + 1, y * stride, (y + 1) * stride);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * Whether the point (u, v) is on the key. The key lies along the diagonal from bottom left (the bow, a ring)
 * to top right (the shaft with two teeth); u and v run from -0.5 to 0.5 across the icon, v downwards.
 */
function onKey(u, v) {
  // Rotate by 45° so the key can be described lying flat along x, bow on the left, teeth hanging down.
  const x = (u - v) * Math.SQRT1_2;
  const y = (u + v) * Math.SQRT1_2;
  const bow = Math.hypot(x + 0.25, y);
  if (bow <= 0.19 && bow >= 0.085) return true;
  if (x >= -0.07 && x <= 0.42 && Math.abs(y) <= 0.045) return true; // shaft
  const tooth = (x0, x1, depth) => x >= x0 && x <= x1 && y >= 0 && y <= 0.045 + depth;
  return tooth(0.25, 0.31, 0.1) || tooth(0.35, 0.42, 0.13);
}

/** Fraction of the pixel (px, py) covered by the key, with the key drawn at `scale` of the icon. */
function coverage(px, py, size, scale) {
  let hits = 0;
  for (let sy = 0; sy < SUPERSAMPLE; sy++)
    for (let sx = 0; sx < SUPERSAMPLE; sx++) {
      const u = ((px + (sx + 0.5) / SUPERSAMPLE) / size - 0.5) / scale;
      const v = ((py + (sy + 0.5) / SUPERSAMPLE) / size - 0.5) / scale;
      if (onKey(u, v)) hits++;
    }
  return hits / (SUPERSAMPLE * SUPERSAMPLE);
}

/** The full-colour icon: opaque accent background, white key blended in by coverage. */
function colorIcon(size = 192) {
  const rgba = Buffer.alloc(size * size * 4);
  for (let py = 0; py < size; py++)
    for (let px = 0; px < size; px++) {
      const a = coverage(px, py, size, 0.8);
      const i = (py * size + px) * 4;
      for (let c = 0; c < 3; c++) rgba[i + c] = Math.round(ACCENT[c] + (255 - ACCENT[c]) * a);
      rgba[i + 3] = 255;
    }
  return encodePng(size, size, rgba);
}

/** The outline icon: white only, the key's coverage in the alpha channel, everything else transparent. */
function outlineIcon(size = 32) {
  const rgba = Buffer.alloc(size * size * 4);
  for (let py = 0; py < size; py++)
    for (let px = 0; px < size; px++) {
      const a = coverage(px, py, size, 1.05);
      const i = (py * size + px) * 4;
      if (a > 0) rgba.set([255, 255, 255, Math.round(255 * a)], i);
    }
  return encodePng(size, size, rgba);
}

function main() {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  for (const [name, png] of [
    ['color.png', colorIcon()],
    ['outline.png', outlineIcon()],
  ]) {
    fs.writeFileSync(path.join(OUT_DIR, name), png);
    console.log(`wrote ${path.relative(process.cwd(), path.join(OUT_DIR, name))} (${png.length} bytes)`);
  }
}

module.exports = { encodePng, colorIcon, outlineIcon, crc32 };

if (require.main === module) main();
