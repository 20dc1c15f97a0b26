// The PS/2 keyboard (IRQ 1): scancode set 1 as the i8042 controller
// translates it, a US layout, Shift, Ctrl, Alt and Caps Lock; Ctrl-Alt-Del
// restarts, F12 shows or hides the live frame map. Keys go to the
// console's line discipline.
import { inb } from "../arch/x86_64/cpu";
import { restart } from "./qemu_exit";
import { print } from "../console/console";
import { ttyInput } from "./tty";
import { toggleFrameMap } from "./frame_map";

const DATA_PORT: u32 = 0x60;
const STATUS_PORT: u32 = 0x64;
const RELEASED: u32 = 0x80;

// Indexed by scancode; "\0" where a key gives no character. Enter types
// CR, as a terminal's does (ICRNL makes it a newline).
const NORMAL = "\0\x1b1234567890-=\x7f\tqwertyuiop[]\r\0asdfghjkl;'`\0\\zxcvbnm,./\0*\0 ";
const SHIFTED = "\0\x1b!@#$%^&*()_+\x7f\tQWERTYUIOP{}\r\0ASDFGHJKL:\"~\0|ZXCVBNM<>?\0*\0 ";

const ALT: u32 = 0x38;
const DELETE: u32 = 0x53; // E0-prefixed; without the prefix, the keypad's Del
const F12: u32 = 0x58;

let shift = false;
let control = false;
let alt = false;
let capsLock = false;
let extended = false;

function key(scancode: u32): void {
  const released = (scancode & RELEASED) != 0;
  const code = scancode & ~RELEASED;
  if (extended) { // E0-prefixed keys: right Ctrl, right Alt and Delete matter here
    extended = false;
    if (code == 0x1d) control = !released;
    else if (code == ALT) alt = !released;
    else if (code == DELETE && !released) pressDelete(control, alt);
    return;
  }
  switch (code) {
    case 0x2a: case 0x36: shift = !released; return;
    case 0x1d: control = !released; return;
    case ALT: alt = !released; return;
    case 0x3a: if (!released) capsLock = !capsLock; return;
    case DELETE: if (!released) pressDelete(control, alt); return;
    case F12: if (!released) toggleFrameMap(); return;
  }
  if (released || code >= <u32>NORMAL.length) return;
  typeCharacter(<u32>(shift ? SHIFTED : NORMAL).charCodeAt(<i32>code), capsLock, control);
}

/** Delete: with Ctrl and Alt held, the PC's old salute restarts the machine; alone it types nothing. */
export function pressDelete(control: bool, alt: bool): void {
  if (!control || !alt) return;
  print("\nkernel: Ctrl-Alt-Del: restarting\n");
  restart();
}

/**
 * Gives a key's character (0: none) to the line discipline, after Caps
 * Lock and Ctrl: the part every keyboard driver shares. Ctrl makes a
 * control character of a letter and of @ [ \ ] ^ _, as a terminal does
 * (Ctrl-\ is VQUIT's ^\).
 */
export function typeCharacter(c: u32, capsLock: bool, control: bool): void {
  if (c == 0) return;
  const letter = (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
  if (capsLock && letter) c ^= 0x20;
  if (control && (letter || (c >= 0x40 && c <= 0x5f))) c &= 0x1f;
  ttyInput(c);
}

export function handleKeyboardInterrupt(): void {
  while (inb(STATUS_PORT) & 1) {
    const scancode = inb(DATA_PORT);
    if (scancode == 0xe0) extended = true;
    else key(scancode);
  }
}
