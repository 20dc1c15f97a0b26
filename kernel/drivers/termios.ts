// The console's terminal settings, as Linux keeps them for a tty: struct
// termios (TCGETS and TCSETS copy it whole) and struct winsize. Every bit
// a program sets is kept and reported back, as on Linux; which of them the
// line discipline acts on is tty.ts's and tty_output.ts's business (the
// README lists them).
import { framebufferColumns, framebufferRows } from "../console/framebuffer";

// c_iflag
export const ISTRIP: u32 = 0o40;
export const INLCR: u32 = 0o100;
export const IGNCR: u32 = 0o200;
export const ICRNL: u32 = 0o400;
export const IUCLC: u32 = 0o1000;
export const IXON: u32 = 0o2000;
export const IXANY: u32 = 0o4000;
export const IUTF8: u32 = 0o40000;
// c_oflag
export const OPOST: u32 = 0o1;
export const OLCUC: u32 = 0o2;
export const ONLCR: u32 = 0o4;
export const OCRNL: u32 = 0o10;
export const ONOCR: u32 = 0o20;
export const ONLRET: u32 = 0o40;
export const TABDLY: u32 = 0o14000;
export const XTABS: u32 = 0o14000;
// c_cflag
const B38400: u32 = 0o17;
const CS8: u32 = 0o60;
const CREAD: u32 = 0o200;
const HUPCL: u32 = 0o2000;
// c_lflag
export const ISIG: u32 = 0o1;
export const ICANON: u32 = 0o2;
export const ECHO: u32 = 0o10;
export const ECHOE: u32 = 0o20;
export const ECHOK: u32 = 0o40;
export const ECHONL: u32 = 0o100;
export const NOFLSH: u32 = 0o200;
export const ECHOCTL: u32 = 0o1000;
export const ECHOKE: u32 = 0o4000;
export const TOSTOP: u32 = 0o400;
export const IEXTEN: u32 = 0o100000;

// c_cc indices
export const VINTR: u32 = 0;
export const VQUIT: u32 = 1;
export const VERASE: u32 = 2;
export const VKILL: u32 = 3;
export const VEOF: u32 = 4;
export const VTIME: u32 = 5;
export const VMIN: u32 = 6;
export const VSTART: u32 = 8;
export const VSTOP: u32 = 9;
export const VSUSP: u32 = 10;
export const VEOL: u32 = 11;
export const VREPRINT: u32 = 12;
export const VWERASE: u32 = 14;
export const VLNEXT: u32 = 15;
export const VEOL2: u32 = 16;
const NCCS: u32 = 19;

/**
 * Linux's struct termios for TCGETS/TCSETS:
 *   0 iflag  4 oflag  8 cflag  12 lflag  16 line(u8)  17 cc[19](u8)
 */
@unmanaged export class Termios {
  iflag: u32;
  oflag: u32;
  cflag: u32;
  lflag: u32;
  line: u8;
}
export const TERMIOS_SIZE: u32 = 36;
const CC_OFFSET: u32 = 17;
/** The older struct termio (TCGETA/TCSETA): four u16 flag words, line, cc[8], padded to 18 bytes. */
export const TERMIO_SIZE: u32 = 18;
const TERMIO_CC: u32 = 8;

export const termios = changetype<Termios>(memory.data(TERMIOS_SIZE, 4));

/** A control character's value; 0 disables it (Linux's _POSIX_VDISABLE), so NUL is never special. */
@inline export function controlCharacter(index: u32): u32 {
  return <u32>load<u8>(changetype<u32>(termios) + CC_OFFSET + index);
}

/** Whether byte `c` is the enabled control character `index`. */
@inline export function isControlCharacter(c: u32, index: u32): bool {
  return c != 0 && c == controlCharacter(index);
}

@inline export function inputFlag(flag: u32): bool {
  return (termios.iflag & flag) != 0;
}

@inline export function outputFlag(flag: u32): bool {
  return (termios.oflag & flag) != 0;
}

@inline export function localFlag(flag: u32): bool {
  return (termios.lflag & flag) != 0;
}

/**
 * struct winsize: 0 rows(u16) 2 columns(u16) 4 xpixel(u16) 6 ypixel(u16);
 * TIOCGWINSZ and TIOCSWINSZ copy it whole.
 */
export const WINSIZE_SIZE: u32 = 8;
export const windowSize = <u32>memory.data(WINSIZE_SIZE, 8);

/** n_tty's defaults, and the framebuffer console's size in characters (24x80 without one). */
export function initTermios(): void {
  termios.iflag = ICRNL | IXON;
  termios.oflag = OPOST | ONLCR;
  termios.cflag = B38400 | CS8 | CREAD | HUPCL;
  termios.lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN;
  termios.line = 0;
  const cc = changetype<u32>(termios) + CC_OFFSET;
  memory.fill(cc, 0, NCCS);
  store<u8>(cc + VINTR, 0x03); // ^C
  store<u8>(cc + VQUIT, 0x1c); // ^\
  store<u8>(cc + VERASE, 0x7f); // DEL
  store<u8>(cc + VKILL, 0x15); // ^U
  store<u8>(cc + VEOF, 0x04); // ^D
  store<u8>(cc + VMIN, 1);
  store<u8>(cc + VSTART, 0x11); // ^Q
  store<u8>(cc + VSTOP, 0x13); // ^S
  store<u8>(cc + VSUSP, 0x1a); // ^Z
  store<u8>(cc + VREPRINT, 0x12); // ^R
  store<u8>(cc + 13, 0x0f); // VDISCARD ^O (kept, not acted on)
  store<u8>(cc + VWERASE, 0x17); // ^W
  store<u8>(cc + VLNEXT, 0x16); // ^V
  const rows = framebufferRows();
  const columns = framebufferColumns();
  store<u64>(windowSize, 0);
  store<u16>(windowSize, <u16>(rows != 0 ? rows : 24));
  store<u16>(windowSize + 2, <u16>(columns != 0 ? columns : 80));
}

/** struct termio from the settings, into `into` (TERMIO_SIZE bytes): the low half of each flag word, the first 8 cc. */
export function termioFrom(into: u32): void {
  memory.fill(into, 0, TERMIO_SIZE);
  store<u16>(into, <u16>termios.iflag);
  store<u16>(into + 2, <u16>termios.oflag);
  store<u16>(into + 4, <u16>termios.cflag);
  store<u16>(into + 6, <u16>termios.lflag);
  store<u8>(into + 8, termios.line);
  memory.copy(into + 9, changetype<u32>(termios) + CC_OFFSET, TERMIO_CC);
}

/** struct termio into a termios image `into` holding the current settings: the high flag halves and cc[8..] stay. */
export function termioInto(into: u32, from: u32): void {
  for (let i: u32 = 0; i < 4; i++) store<u32>(into + i * 4, (load<u32>(into + i * 4) & 0xffff0000) | <u32>load<u16>(from + i * 2));
  store<u8>(into + 16, load<u8>(from + 8));
  memory.copy(into + CC_OFFSET, from + 9, TERMIO_CC);
}

/** A control character as the line discipline sees one (ASCII's: below space, and DEL). */
@inline export function isControl(c: u32): bool {
  return c < 0x20 || c == 0x7f;
}

/** A UTF-8 continuation byte, when the terminal is in UTF-8 mode (IUTF8): it takes no column and is never erased alone. */
@inline export function isContinuation(c: u32): bool {
  return inputFlag(IUTF8) && (c & 0xc0) == 0x80;
}
