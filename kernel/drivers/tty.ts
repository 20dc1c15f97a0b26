// The console's line discipline, as Linux's n_tty does it: keys from the
// PS/2 and USB keyboards and bytes from the serial port pass the c_iflag
// translations (ISTRIP, IUCLC, IGNCR, ICRNL, INLCR), flow control (IXON,
// IXANY) and the signal keys (ISIG: VINTR, VQUIT, VSUSP to the foreground
// group), then, in canonical mode (ICANON), line editing (VERASE, VKILL,
// VWERASE, VLNEXT, VREPRINT; a line ends at newline, VEOL, VEOL2 or VEOF),
// echoed as c_lflag says, into the input queue (tty_queue.ts).
import { readSerialByte } from "../console/serial";
import {
  ECHO, ECHOCTL, ECHOE, ECHOK, ECHOKE, ECHONL, ICANON, ICRNL, IEXTEN, IGNCR, INLCR, ISIG, ISTRIP, IUCLC, IXANY, IXON,
  NOFLSH, VEOF, VEOL, VEOL2, VERASE, VINTR, VKILL, VLNEXT, VQUIT, VREPRINT, VSTART, VSTOP, VSUSP, VWERASE,
  inputFlag, isContinuation, isControl, isControlCharacter, localFlag, termios,
} from "./termios";
import {
  echoRaw, echoTyped, lineStartColumn, markLineStart, outputStopped, startOutput, stopOutput,
} from "./tty_output";
import {
  canonicalSwitched, endLine, flushInput, lineByte, lineLength, queueByte, roomFor, truncateLine, wakeReaders,
} from "./tty_queue";
import { signalForeground } from "./tty_session";

// Linux's signal numbers (proc/signal_action.ts has them all; drivers sit below proc).
const SIGINT: u32 = 2;
const SIGQUIT: u32 = 3;
const SIGTSTP: u32 = 20;

let literalNext = false; // VLNEXT came: the next byte is taken as it is

function echo(c: u32): void {
  echoTyped(c, localFlag(ECHOCTL));
}

/** A byte that is not a control key: queued, and echoed under ECHO. */
function receiveOrdinary(c: u32): void {
  if (!roomFor(true)) return;
  if (localFlag(ECHO)) {
    if (c == 0x0a) {
      echoRaw(c);
    } else {
      if (lineLength() == 0) markLineStart();
      echo(c);
    }
  }
  queueByte(c);
}

function rubOut(): void {
  echoRaw(0x08);
  echoRaw(0x20);
  echoRaw(0x08);
}

/** Echoes the backspaces that take the cursor back over the tab just erased. */
function eraseTab(): void {
  let columns: u32 = 0;
  let afterTab = false;
  for (let at = lineLength(); at != 0;) {
    const c = lineByte(--at);
    if (c == 0x09) {
      afterTab = true;
      break;
    }
    if (isControl(c)) {
      if (localFlag(ECHOCTL)) columns += 2;
    } else if (!isContinuation(c)) {
      columns++;
    }
  }
  if (!afterTab) columns += lineStartColumn();
  for (let n: u32 = 8 - (columns & 7); n > 0; n--) echoRaw(0x08);
}

const enum Erase { Character, Word, Line }

/** VERASE, VWERASE and VKILL on the line being typed. */
function erase(key: u32): void {
  if (lineLength() == 0) return;
  const kind = isControlCharacter(key, VERASE) ? Erase.Character : isControlCharacter(key, VWERASE) ? Erase.Word : Erase.Line;
  const echoing = localFlag(ECHO);
  if (kind == Erase.Line && (!echoing || !localFlag(ECHOK) || !localFlag(ECHOKE) || !localFlag(ECHOE))) {
    truncateLine(0);
    if (echoing) {
      echo(key);
      if (localFlag(ECHOK)) echoRaw(0x0a);
    }
    return;
  }
  let seenWord = false;
  while (lineLength() != 0) {
    let head = lineLength();
    let c: u32;
    do {
      c = lineByte(--head);
    } while (isContinuation(c) && head != 0);
    if (isContinuation(c)) break; // never half a character
    if (kind == Erase.Word) {
      const wordByte = (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a) || c == 0x5f;
      if (wordByte) seenWord = true;
      else if (seenWord) break;
    }
    truncateLine(head);
    if (echoing) {
      if (kind == Erase.Character && !localFlag(ECHOE)) {
        echo(key);
      } else if (c == 0x09) {
        eraseTab();
      } else {
        if (isControl(c) && localFlag(ECHOCTL)) rubOut(); // the ^ of ^X
        if (!isControl(c) || localFlag(ECHOCTL)) rubOut();
      }
    }
    if (kind == Erase.Character) break;
  }
}

/** IXON's VSTOP and VSTART; true if `c` was one (it goes no further). */
function flowKey(c: u32): bool {
  const start = isControlCharacter(c, VSTART);
  const stop = isControlCharacter(c, VSTOP);
  if (start && stop) { // one key for both toggles
    if (outputStopped()) startOutput();
    else stopOutput();
  } else if (stop) {
    stopOutput();
  } else if (start) {
    startOutput();
  }
  return start || stop;
}

/** ISIG's keys: the signal to send for `c`, or 0. */
function signalOf(c: u32): u32 {
  if (isControlCharacter(c, VINTR)) return SIGINT;
  if (isControlCharacter(c, VQUIT)) return SIGQUIT;
  if (isControlCharacter(c, VSUSP)) return SIGTSTP;
  return 0;
}

function signalKey(c: u32, signal: u32): void {
  if (!localFlag(NOFLSH)) flushInput();
  if (inputFlag(IXON)) startOutput();
  if (localFlag(ECHO)) echo(c);
  signalForeground(signal);
}

/** Canonical mode's editing and line-ending keys; true if `c` was one. */
function editKey(c: u32): bool {
  const extended = localFlag(IEXTEN);
  if (isControlCharacter(c, VERASE) || isControlCharacter(c, VKILL) || (extended && isControlCharacter(c, VWERASE))) {
    erase(c);
    return true;
  }
  if (extended && isControlCharacter(c, VLNEXT)) {
    literalNext = true;
    if (localFlag(ECHO) && localFlag(ECHOCTL)) {
      echoRaw(0x5e); // '^', backed over by what comes next
      echoRaw(0x08);
    }
    return true;
  }
  if (extended && localFlag(ECHO) && isControlCharacter(c, VREPRINT)) {
    echo(c);
    echoRaw(0x0a);
    for (let at: u32 = 0; at < lineLength(); at++) echo(lineByte(at));
    return true;
  }
  if (c == 0x0a) {
    if (localFlag(ECHO) || localFlag(ECHONL)) echoRaw(0x0a);
    endLine(c);
    return true;
  }
  if (isControlCharacter(c, VEOF)) {
    endLine(0);
    return true;
  }
  if (isControlCharacter(c, VEOL) || (extended && isControlCharacter(c, VEOL2))) {
    if (localFlag(ECHO)) {
      if (lineLength() == 0) markLineStart();
      echo(c);
    }
    endLine(c);
    return true;
  }
  return false;
}

/** One byte of input (a key or a serial byte), from an interrupt handler. */
export function ttyInput(byte: u32): void {
  let c = byte & 0xff;
  if (inputFlag(ISTRIP)) c &= 0x7f;
  if (inputFlag(IUCLC) && localFlag(IEXTEN) && c >= 0x41 && c <= 0x5a) c |= 0x20;
  if (literalNext) {
    literalNext = false;
    receiveOrdinary(c);
    return;
  }
  if (inputFlag(IXON) && flowKey(c)) return;
  if (localFlag(ISIG)) {
    const signal = signalOf(c);
    if (signal != 0) {
      signalKey(c, signal);
      return;
    }
  }
  if (inputFlag(IXON) && inputFlag(IXANY)) startOutput();
  if (c == 0x0d) {
    if (inputFlag(IGNCR)) return;
    if (inputFlag(ICRNL)) c = 0x0a;
  } else if (c == 0x0a && inputFlag(INLCR)) {
    c = 0x0d;
  }
  if (localFlag(ICANON) && editKey(c)) return;
  receiveOrdinary(c);
}

/** The serial port's interrupt: every byte it has is terminal input. */
export function handleSerialInterrupt(): void {
  for (let byte = readSerialByte(); byte >= 0; byte = readSerialByte()) ttyInput(<u32>byte);
}

/** The settings changed (TCSETS and its kin): canonical mode may have been switched; readers look again. */
export function ttySettingsChanged(oldLocalFlags: u32, oldInputFlags: u32): void {
  if (((oldLocalFlags ^ termios.lflag) & ICANON) != 0) {
    canonicalSwitched();
    literalNext = false;
  }
  if ((oldInputFlags & IXON) != 0 && !inputFlag(IXON)) startOutput();
  wakeReaders();
}

