// The framebuffer console as the tests see it: QEMU's `screendump` (PPM P6)
// read into an RGB image, text checked cell by cell against the glyphs of
// build/font.bin (what kernel/console/framebuffer.ts draws with), a rough
// screen-to-text reader for error messages, and PNG encoding so a
// screenshot can be kept for the README.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./qemu";
import { encodeRgbPng } from "../../scripts/png.mjs";

/** kernel/console/framebuffer.ts */
export const GLYPH_WIDTH = 8;
export const GLYPH_HEIGHT = 16;
export const BACKGROUND = 0x101820;
export const TextColor = {
  Kernel: 0xa8b4c0, // kernel messages
  Program: 0xffffff, // what programs write
  Input: 0x7fd8ff, // echoed keys
  Panic: 0xff5050,
} as const;

export interface Image {
  width: number;
  height: number;
  /** width * height * 3 bytes, RGB, row by row */
  rgb: Buffer;
}

/** A pixel as 0xRRGGBB. */
export function pixel(image: Image, x: number, y: number): number {
  const at = (y * image.width + x) * 3;
  return (image.rgb[at] << 16) | (image.rgb[at + 1] << 8) | image.rgb[at + 2];
}

/** Parses a binary PPM (P6, maxval 255), as QEMU's screendump writes it. */
export function readPpm(data: Buffer): Image {
  let at = 0;
  const token = (): string => {
    for (;;) { // whitespace and comments between header fields
      while (at < data.length && /\s/.test(String.fromCharCode(data[at]))) at++;
      if (data[at] !== 0x23) break;
      while (at < data.length && data[at] !== 0x0a) at++;
    }
    const start = at;
    while (at < data.length && !/\s/.test(String.fromCharCode(data[at]))) at++;
    return data.toString("latin1", start, at);
  };
  const magic = token();
  const width = Number(token());
  const height = Number(token());
  const maxval = Number(token());
  at++; // the single whitespace byte before the pixels
  if (magic !== "P6" || !(width > 0) || !(height > 0) || maxval !== 255) {
    throw new Error(`not a P6 PPM with maxval 255: ${magic} ${width}x${height} max ${maxval}`);
  }
  const bytes = width * height * 3;
  if (data.length - at < bytes) throw new Error(`truncated PPM: ${data.length - at} of ${bytes} pixel bytes`);
  return { width, height, rgb: data.subarray(at, at + bytes) };
}

/** True when `data` holds a whole PPM (header and every pixel). */
export function isCompletePpm(data: Buffer): boolean {
  try {
    readPpm(data);
    return true;
  } catch {
    return false;
  }
}

// ------------------------------------------------------------------- PNG

/** A PNG (8-bit RGB) of the image (scripts/png.mjs, which scripts/memmap uses too). */
export function encodePng(image: Image): Buffer {
  return encodeRgbPng(image.width, image.height, image.rgb);
}

// ------------------------------------------------------------------ text

/** build/font.bin: 256 glyphs of 16 rows, one byte per row, bit 7 = leftmost pixel. */
export function loadFont(path = join(ROOT, "build/font.bin")): Buffer {
  const font = readFileSync(path);
  if (font.length < 256 * GLYPH_HEIGHT) throw new Error(`${path}: ${font.length} bytes, expected ${256 * GLYPH_HEIGHT}`);
  return font;
}

export function columns(image: Image): number {
  return Math.floor(image.width / GLYPH_WIDTH);
}

export function rows(image: Image): number {
  return Math.floor(image.height / GLYPH_HEIGHT);
}

/** One text cell's foreground pattern: 16 row bytes, bit 7 = leftmost; a pixel is foreground unless it is the background colour. */
function cellPattern(image: Image, column: number, row: number): Buffer {
  const pattern = Buffer.alloc(GLYPH_HEIGHT);
  for (let y = 0; y < GLYPH_HEIGHT; y++) {
    let bits = 0;
    for (let x = 0; x < GLYPH_WIDTH; x++) {
      if (pixel(image, column * GLYPH_WIDTH + x, row * GLYPH_HEIGHT + y) !== BACKGROUND) bits |= 0x80 >> x;
    }
    pattern[y] = bits;
  }
  return pattern;
}

export interface TextCheck {
  /** pixels whose foreground/background state differs from the glyph */
  wrongPixels: number;
  /** foreground pixels that have a colour other than `color` (0 when no colour was asked for) */
  wrongColor: number;
  /** the first few differences, for error messages */
  details: string[];
}

/**
 * Compares every pixel of the cells where `text` would be drawn from
 * (column, row): a pixel must be foreground exactly where the character's
 * glyph has a bit set, and (if `color` is given) foreground pixels must have
 * that colour.
 */
export function checkText(image: Image, font: Buffer, text: string, column: number, row: number, color?: number): TextCheck {
  const result: TextCheck = { wrongPixels: 0, wrongColor: 0, details: [] };
  if (row < 0 || row >= rows(image) || column < 0 || column + text.length > columns(image)) {
    result.wrongPixels = text.length * GLYPH_WIDTH * GLYPH_HEIGHT;
    result.details.push(`cells ${column}..${column + text.length - 1} of row ${row} are off the ${columns(image)}x${rows(image)} screen`);
    return result;
  }
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const glyph = font.subarray((code & 0xff) * GLYPH_HEIGHT, (code & 0xff) * GLYPH_HEIGHT + GLYPH_HEIGHT);
    for (let y = 0; y < GLYPH_HEIGHT; y++) {
      for (let x = 0; x < GLYPH_WIDTH; x++) {
        const px = (column + i) * GLYPH_WIDTH + x;
        const py = row * GLYPH_HEIGHT + y;
        const value = pixel(image, px, py);
        const want = (glyph[y] & (0x80 >> x)) !== 0;
        const have = value !== BACKGROUND;
        if (want !== have) {
          result.wrongPixels++;
          if (result.details.length < 8) {
            result.details.push(`'${text[i]}' at (${px},${py}): ${want ? "foreground" : "background"} expected, 0x${value.toString(16).padStart(6, "0")}`);
          }
        } else if (have && color !== undefined && value !== color) {
          result.wrongColor++;
          if (result.details.length < 8) {
            result.details.push(`'${text[i]}' at (${px},${py}): colour 0x${value.toString(16).padStart(6, "0")}, expected 0x${color.toString(16).padStart(6, "0")}`);
          }
        }
      }
    }
  }
  return result;
}

export function textMatches(image: Image, font: Buffer, text: string, column: number, row: number, color?: number): boolean {
  const check = checkText(image, font, text, column, row, color);
  return check.wrongPixels === 0 && check.wrongColor === 0;
}

/** The rows (top to bottom) where `text` is drawn starting at `column`. */
export function rowsWithText(image: Image, font: Buffer, text: string, column = 0, color?: number): number[] {
  const found: number[] = [];
  for (let row = 0; row < rows(image); row++) if (textMatches(image, font, text, column, row, color)) found.push(row);
  return found;
}

/** Every (column, row) where `text` is drawn. */
export function findText(image: Image, font: Buffer, text: string, color?: number): { column: number; row: number }[] {
  const found: { column: number; row: number }[] = [];
  for (let row = 0; row < rows(image); row++) {
    for (let column = 0; column + text.length <= columns(image); column++) {
      if (textMatches(image, font, text, column, row, color)) found.push({ column, row });
    }
  }
  return found;
}

/** True when every pixel of the row of cells is background. */
export function rowIsBlank(image: Image, row: number, fromColumn = 0): boolean {
  for (let y = row * GLYPH_HEIGHT; y < (row + 1) * GLYPH_HEIGHT; y++) {
    for (let x = fromColumn * GLYPH_WIDTH; x < columns(image) * GLYPH_WIDTH; x++) if (pixel(image, x, y) !== BACKGROUND) return false;
  }
  return true;
}

/** The console's cursor: a 2-pixel underline in the program colour at the bottom of the cell. */
export function cursorAt(image: Image, column: number, row: number): boolean {
  for (let y = GLYPH_HEIGHT - 2; y < GLYPH_HEIGHT; y++) {
    for (let x = 0; x < GLYPH_WIDTH; x++) {
      if (pixel(image, column * GLYPH_WIDTH + x, row * GLYPH_HEIGHT + y) !== TextColor.Program) return false;
    }
  }
  return true;
}

/**
 * The screen read back as text, one string per row (trailing blanks
 * dropped): each cell becomes the printable ASCII character whose glyph it
 * matches exactly, or '\u00bf' when none does (the cursor cell, or not our
 * console at all). For error messages, not for checks.
 */
export function screenText(image: Image, font: Buffer): string[] {
  const byPattern = new Map<string, string>();
  for (let code = 0x7e; code >= 0x20; code--) { // lowest code wins when glyphs repeat
    byPattern.set(font.subarray(code * GLYPH_HEIGHT, (code + 1) * GLYPH_HEIGHT).toString("hex"), String.fromCharCode(code));
  }
  const lines: string[] = [];
  for (let row = 0; row < rows(image); row++) {
    let line = "";
    for (let column = 0; column < columns(image); column++) line += byPattern.get(cellPattern(image, column, row).toString("hex")) ?? "\u00bf";
    lines.push(line.replace(/ +$/, ""));
  }
  return lines;
}

/** screenText with row numbers, blank rows at the end left out. */
export function describeScreen(image: Image, font: Buffer): string {
  const lines = screenText(image, font);
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return `screen ${image.width}x${image.height}, read as text:\n` +
    lines.map((line, row) => `${String(row).padStart(3)}| ${line}`).join("\n");
}

/** Throws, with what the screen shows, unless `text` is drawn at (column, row) in `color`. */
export function expectText(image: Image, font: Buffer, text: string, column: number, row: number, color?: number): void {
  const check = checkText(image, font, text, column, row, color);
  if (check.wrongPixels === 0 && check.wrongColor === 0) return;
  throw new Error(
    `"${text}" is not drawn at column ${column}, row ${row}` +
    `${color === undefined ? "" : ` in colour 0x${color.toString(16)}`}: ${check.wrongPixels} pixels differ from the glyphs, ` +
    `${check.wrongColor} have the wrong colour\n  ${check.details.join("\n  ")}\n${describeScreen(image, font)}`,
  );
}
