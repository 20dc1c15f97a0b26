// The console's output side, as Linux's n_tty does it: program output and
// echoes go through c_oflag processing (OPOST: ONLCR, OCRNL, ONOCR,
// ONLRET, OLCUC, XTABS) while the column is tracked, which erasing a tab
// needs; and output stops on VSTOP (IXON) or TCXONC's TCOOFF until VSTART
// or TCOON. Echoes are written at once even while output is stopped (n_tty
// holds them back); kernel messages never go through here.
import { putRawByte } from "../console/console";
import { TextColor, setTextColor } from "../console/framebuffer";
import { signalPending, sleepOn, wakeUp } from "../lib/wait";
import {
  OCRNL, OLCUC, ONLCR, ONLRET, ONOCR, OPOST, TABDLY, XTABS, isContinuation, isControl, outputFlag, termios,
} from "./termios";

let column: u32 = 0;
let lineColumn: u32 = 0; // the column where the line being typed began (n_tty's canon_column)
let stopped = false; // by VSTOP or TCOOFF
let stoppedByCall = false; // by TCOOFF: only TCOON restarts it
const outputChannel = memory.data(4, 4); // what stopped writers sleep on

/** One byte through OPOST processing. */
function outputByte(byte: u32): void {
  let c = byte;
  if (!outputFlag(OPOST)) {
    putRawByte(c);
    return;
  }
  if (c == 0x0a) {
    if (outputFlag(ONLRET)) column = 0;
    if (outputFlag(ONLCR)) {
      column = 0;
      lineColumn = 0;
      putRawByte(0x0d);
    } else {
      lineColumn = column;
    }
  } else if (c == 0x0d) {
    if (outputFlag(ONOCR) && column == 0) return;
    if (outputFlag(OCRNL)) {
      c = 0x0a;
      if (outputFlag(ONLRET)) column = lineColumn = 0;
    } else {
      column = lineColumn = 0;
    }
  } else if (c == 0x09) {
    const spaces: u32 = 8 - (column & 7);
    column += spaces;
    if ((termios.oflag & TABDLY) == XTABS) {
      for (let i: u32 = 0; i < spaces; i++) putRawByte(0x20);
      return;
    }
  } else if (c == 0x08) {
    if (column > 0) column--;
  } else if (!isControl(c)) {
    if (outputFlag(OLCUC) && c >= 0x61 && c <= 0x7a) c ^= 0x20;
    if (!isContinuation(c)) column++;
  }
  putRawByte(c);
}

/** Program output (already in kernel memory), in the program's colour on the screen. */
export function ttyWriteBytes(from: u32, count: u32): void {
  setTextColor(TextColor.Program);
  for (let i: u32 = 0; i < count; i++) outputByte(load<u8>(from + i));
  setTextColor(TextColor.Kernel);
}

/** Echoes a byte as it is (a newline, the parts of an erase). */
export function echoRaw(c: u32): void {
  setTextColor(TextColor.Input);
  outputByte(c);
  setTextColor(TextColor.Kernel);
}

/** Echoes a typed byte: a control character other than tab as ^X under ECHOCTL. */
export function echoTyped(c: u32, controlAsCaret: bool): void {
  if (controlAsCaret && isControl(c) && c != 0x09) {
    setTextColor(TextColor.Input);
    putRawByte(0x5e); // '^'
    putRawByte(c ^ 0x40);
    setTextColor(TextColor.Kernel);
    column += 2;
    return;
  }
  echoRaw(c);
}

/** The first byte of a line is about to be echoed: erasing a tab counts from here. */
export function markLineStart(): void {
  lineColumn = column;
}

export function lineStartColumn(): u32 {
  return lineColumn;
}

// ---- flow control -------------------------------------------------------------

/** VSTOP with IXON: writers wait until restarted. */
export function stopOutput(): void {
  stopped = true;
}

/** VSTART (or any key with IXANY): restarts output unless TCOOFF stopped it. */
export function startOutput(): void {
  if (!stopped || stoppedByCall) return;
  stopped = false;
  wakeUp(<u32>outputChannel);
}

export function outputStopped(): bool {
  return stopped;
}

/** TCXONC's TCOOFF (true) and TCOON (false). */
export function suspendOutput(suspend: bool): void {
  if (suspend == stoppedByCall) return;
  stoppedByCall = suspend;
  if (suspend) {
    stopped = true;
  } else {
    stopped = false;
    wakeUp(<u32>outputChannel);
  }
}

export const enum OutputWait {
  Ready = 0,
  Interrupted = 1, // EINTR
  WouldBlock = 2, // EAGAIN
}

/** Waits while output is stopped; a signal or a non-blocking writer ends the wait. */
export function waitForOutput(nonblocking: bool): OutputWait {
  while (stopped) {
    if (nonblocking) return OutputWait.WouldBlock;
    if (signalPending()) return OutputWait.Interrupted;
    sleepOn(<u32>outputChannel);
  }
  return OutputWait.Ready;
}
