// make-font.mjs FONT.psf[.gz] OUT.bin
// Converts a Linux console font (PSF1 or PSF2, from Debian's
// console-setup-linux) into what the kernel's framebuffer console reads: 256
// glyphs of 8x16 pixels, 16 bytes each, indexed by Latin-1 code (through the
// font's Unicode table when it has one).
import { readFileSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

const [input, output] = process.argv.slice(2);
let bytes = readFileSync(input);
if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);

let glyphCount, height, width, glyphs, table;
if (bytes[0] === 0x36 && bytes[1] === 0x04) { // PSF1
  const mode = bytes[2];
  height = bytes[3];
  width = 8;
  glyphCount = mode & 1 ? 512 : 256;
  glyphs = 4;
  table = mode & 2 ? glyphs + glyphCount * height : -1;
} else if (bytes.readUInt32LE(0) === 0x864ab572) { // PSF2
  glyphs = bytes.readUInt32LE(8);
  const flags = bytes.readUInt32LE(12);
  glyphCount = bytes.readUInt32LE(16);
  height = bytes.readUInt32LE(24);
  width = bytes.readUInt32LE(28);
  table = flags & 1 ? glyphs + glyphCount * bytes.readUInt32LE(20) : -1;
  if (table >= 0) throw new Error("PSF2 Unicode tables (UTF-8) are not supported; use a PSF1 font");
} else {
  throw new Error(`${input}: not a PSF font`);
}
if (width !== 8 || height !== 16) throw new Error(`${input}: glyphs are ${width}x${height}, the console wants 8x16`);

// Latin-1 code -> glyph index.
const glyphFor = new Array(256).fill(-1);
if (table < 0) {
  for (let c = 0; c < 256; c++) glyphFor[c] = c;
} else {
  let at = table;
  for (let g = 0; g < glyphCount && at < bytes.length; g++) {
    while (at + 1 < bytes.length) {
      const u = bytes.readUInt16LE(at);
      at += 2;
      if (u === 0xffff) break;
      if (u < 256 && glyphFor[u] < 0) glyphFor[u] = g;
    }
  }
}
const out = Buffer.alloc(256 * 16);
const fallback = glyphFor[0x3f]; // '?'
for (let c = 0; c < 256; c++) {
  const g = glyphFor[c] >= 0 ? glyphFor[c] : c < 0x20 ? -1 : fallback;
  if (g >= 0) bytes.copy(out, c * 16, glyphs + g * 16, glyphs + g * 16 + 16);
}
writeFileSync(output, out);
