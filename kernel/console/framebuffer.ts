// The framebuffer console: text drawn with an 8x16 bitmap font (the boot
// module "font", made by scripts/make-font.mjs) into the linear framebuffer
// GRUB set up (multiboot2 framebuffer tag, 32 bits per pixel, RGB). It
// scrolls, shows a cursor, and colours text by who wrote it. It may be
// narrowed to the left part of the screen, leaving the rest to a picture
// drawn with fillRectangle and drawText (the live frame map).
import { bootInfo, findModule } from "../boot/multiboot2";

export const GLYPH_WIDTH: u32 = 8;
const GLYPH_HEIGHT: u32 = 16;
const FONT_SIZE: u32 = 256 * GLYPH_HEIGHT;
const FRAMEBUFFER_RGB: u32 = 1;
const BACKGROUND: u32 = 0x101820;
export const FRAMEBUFFER_BACKGROUND: u32 = BACKGROUND;
// Scrolling moves the whole screen; doing it a quarter screen at a time keeps
// long output from costing a full-screen copy per line.
const SCROLL_FRACTION: u32 = 4;

export const enum TextColor {
  Kernel = 0xa8b4c0, // kernel messages
  Program = 0xffffff, // what programs write
  Input = 0x7fd8ff, // echoed keys
  Panic = 0xff5050,
}

let enabled = false;
let font: u32 = 0;
let base: u32 = 0; // linear address of the pixels
let pitch: u32 = 0;
let columns: u32 = 0; // the console's, which may be fewer than the screen's
let rows: u32 = 0;
let column: u32 = 0;
let row: u32 = 0;
let color: u32 = TextColor.Kernel;

function findFont(): u32 {
  const module = findModule("font");
  return module != null && module.end - module.start >= FONT_SIZE ? module.start : 0;
}

/** The framebuffer's physical range, for the kernel's page tables (0 size if none is usable). */
export function framebufferBytes(): u64 {
  const usable = bootInfo.framebufferType == FRAMEBUFFER_RGB && bootInfo.framebufferBpp == 32 &&
    bootInfo.framebufferAddress != 0 && bootInfo.framebufferAddress + <u64>bootInfo.framebufferPitch * bootInfo.framebufferHeight <= 0x100000000;
  return usable ? <u64>bootInfo.framebufferPitch * bootInfo.framebufferHeight : 0;
}

/** Starts drawing, once the framebuffer is mapped. False if there is no usable framebuffer or font. */
export function initFramebufferConsole(): bool {
  font = findFont();
  if (font == 0 || framebufferBytes() == 0) return false;
  base = <u32>bootInfo.framebufferAddress;
  pitch = bootInfo.framebufferPitch;
  columns = bootInfo.framebufferWidth / GLYPH_WIDTH;
  rows = bootInfo.framebufferHeight / GLYPH_HEIGHT;
  for (let y: u32 = 0; y < bootInfo.framebufferHeight; y++) fillRow(y);
  enabled = true;
  drawCursor(true);
  return true;
}

export function framebufferColumns(): u32 {
  return enabled ? columns : 0;
}

export function framebufferRows(): u32 {
  return enabled ? rows : 0;
}

export function setTextColor(newColor: TextColor): void {
  color = newColor;
}

/** Whether the console has the whole width of the screen. */
@inline function wholeWidth(): bool {
  return columns == bootInfo.framebufferWidth / GLYPH_WIDTH;
}

/** Clears pixel row `y` of the console (its columns only). */
function fillRow(y: u32): void {
  const line = base + y * pitch;
  const width = wholeWidth() ? bootInfo.framebufferWidth : columns * GLYPH_WIDTH;
  for (let x: u32 = 0; x < width; x++) store<u32>(line + x * 4, BACKGROUND);
}

export function framebufferWidth(): u32 {
  return enabled ? bootInfo.framebufferWidth : 0;
}

export function framebufferHeight(): u32 {
  return enabled ? bootInfo.framebufferHeight : 0;
}

/** Fills the rectangle at (x, y), `width` by `height` pixels, with `rgb`; the caller keeps it on the screen. */
export function fillRectangle(x: u32, y: u32, width: u32, height: u32, rgb: u32): void {
  let line = base + y * pitch + x * 4;
  for (let r: u32 = 0; r < height; r++) {
    for (let i: u32 = 0; i < width; i++) store<u32>(line + i * 4, rgb);
    line += pitch;
  }
}

/** Draws the `length` bytes of text at `text` with the first glyph's top left at pixel (x, y). */
export function drawText(x: u32, y: u32, text: u32, length: u32, rgb: u32): void {
  for (let i: u32 = 0; i < length; i++) drawGlyphAt(<u32>load<u8>(text + i), x + i * GLYPH_WIDTH, y, rgb);
}

/**
 * Gives the console the screen's first `count` columns (at most all of
 * them), the rest of the screen being someone else's. What was drawn
 * beyond them stays until that someone draws over it.
 */
export function setConsoleColumns(count: u32): void {
  if (!enabled) return;
  drawCursor(false);
  columns = max(min(count, bootInfo.framebufferWidth / GLYPH_WIDTH), 1);
  if (column >= columns) newLine();
  drawCursor(true);
}

function drawGlyph(c: u32, atColumn: u32, atRow: u32, foreground: u32): void {
  drawGlyphAt(c, atColumn * GLYPH_WIDTH, atRow * GLYPH_HEIGHT, foreground);
}

function drawGlyphAt(c: u32, atX: u32, atY: u32, foreground: u32): void {
  const glyph = font + (c & 0xff) * GLYPH_HEIGHT;
  let pixel = base + atY * pitch + atX * 4;
  for (let y: u32 = 0; y < GLYPH_HEIGHT; y++) {
    const bits = <u32>load<u8>(glyph + y);
    for (let x: u32 = 0; x < GLYPH_WIDTH; x++) {
      store<u32>(pixel + x * 4, (bits & (0x80 >> x)) != 0 ? foreground : BACKGROUND);
    }
    pixel += pitch;
  }
}

/** An underline in the cell where the next character goes. */
function drawCursor(visible: bool): void {
  const pixel = base + (row * GLYPH_HEIGHT + GLYPH_HEIGHT - 2) * pitch + column * GLYPH_WIDTH * 4;
  for (let y: u32 = 0; y < 2; y++) {
    for (let x: u32 = 0; x < GLYPH_WIDTH; x++) store<u32>(pixel + y * pitch + x * 4, visible ? TextColor.Program : BACKGROUND);
  }
}

function scroll(): void {
  const lines = max(rows / SCROLL_FRACTION, 1);
  const keep = (rows - lines) * GLYPH_HEIGHT;
  const from = base + lines * GLYPH_HEIGHT * pitch;
  if (wholeWidth()) memory.copy(base, from, keep * pitch);
  else for (let y: u32 = 0; y < keep; y++) memory.copy(base + y * pitch, from + y * pitch, columns * GLYPH_WIDTH * 4);
  for (let y = keep; y < rows * GLYPH_HEIGHT; y++) fillRow(y);
  row -= lines;
}

function lineFeed(): void {
  row++;
  if (row == rows) scroll();
}

function newLine(): void {
  column = 0;
  lineFeed();
}

// The escape sequences line editors (busybox's, readline) send, as a VT100
// takes them: CSI n A/B/C/D move the cursor, CSI H and f place it, CSI K
// and J erase to the end of the line or the screen. Other sequences (SGR
// colours, the cursor-position query) are taken and not drawn; the query
// gets no answer, which editors allow for.
const PLAIN: u32 = 0;
const AFTER_ESCAPE: u32 = 1;
const IN_SEQUENCE: u32 = 2;
let escape: u32 = PLAIN;
let parameters: u32 = 0; // how many have started
let first: u32 = 0;
let second: u32 = 0;

@inline function parameter(value: u32, fallback: u32): u32 {
  return value == 0 ? fallback : value;
}

function eraseCells(fromColumn: u32, toColumn: u32, atRow: u32): void {
  for (let x = fromColumn; x < toColumn; x++) drawGlyph(0x20, x, atRow, color);
}

function endSequence(final: u32): void {
  escape = PLAIN;
  if (final == 0x41) row -= min(parameter(first, 1), row); // A
  else if (final == 0x42) row = min(row + parameter(first, 1), rows - 1); // B
  else if (final == 0x43) column = min(column + parameter(first, 1), columns - 1); // C
  else if (final == 0x44) column -= min(parameter(first, 1), column); // D
  else if (final == 0x48 || final == 0x66) { // H, f: 1-based row;column
    row = min(parameter(first, 1), rows) - 1;
    column = min(parameter(second, 1), columns) - 1;
  } else if (final == 0x4b) { // K: 0 to the end, 1 from the start, 2 the whole line
    if (first == 0 || first == 2) eraseCells(first == 2 ? 0 : column, columns, row);
    if (first == 1) eraseCells(0, column + 1, row);
  } else if (final == 0x4a && first == 0) { // J: to the end of the screen
    eraseCells(column, columns, row);
    for (let y = (row + 1) * GLYPH_HEIGHT; y < rows * GLYPH_HEIGHT; y++) fillRow(y);
  }
}

/** Takes `c` as part of an escape sequence; false if it is plain text. */
function takeEscape(c: u32): bool {
  if (escape == PLAIN) {
    if (c != 0x1b) return false;
    escape = AFTER_ESCAPE;
    return true;
  }
  if (escape == AFTER_ESCAPE) {
    escape = c == 0x5b ? IN_SEQUENCE : PLAIN; // ESC [ starts a CSI; ESC and one other byte is taken whole
    parameters = 0;
    first = 0;
    second = 0;
    return true;
  }
  if (c >= 0x30 && c <= 0x39) {
    if (parameters == 0) parameters = 1;
    if (parameters == 1) first = min(first * 10 + c - 0x30, 9999);
    else if (parameters == 2) second = min(second * 10 + c - 0x30, 9999);
  } else if (c == 0x3b) {
    parameters = parameters == 0 ? 2 : parameters + 1;
  } else if (c >= 0x40 && c <= 0x7e) {
    endSequence(c);
  } else if (c < 0x20 || c > 0x3f) {
    escape = PLAIN; // not a sequence after all
  }
  return true;
}

function putPlain(c: u32): void {
  if (c == 0x0a) {
    lineFeed();
  } else if (c == 0x0d) {
    column = 0;
  } else if (c == 0x08) {
    if (column > 0) column--;
  } else if (c == 0x09) {
    column = (column + 8) & ~7;
    if (column >= columns) newLine();
  } else if (c >= 0x20) {
    drawGlyph(c, column, row, color);
    column++;
    if (column == columns) newLine();
  }
}

/** One byte of console output; a line feed keeps the column, as a terminal's does (CR returns). */
export function framebufferPut(c: u32): void {
  if (!enabled) return;
  drawCursor(false);
  if (!takeEscape(c)) putPlain(c);
  drawCursor(true);
}
