// The terminal's ioctls on the console, with Linux's numbers and answers:
// its settings (TCGETS and TCSETS with their W and F forms; the older
// struct termio of TCGETA and TCSETA), the window size, the input queue
// (FIONREAD, TCFLSH), flow control (TCXONC), and the process-group calls
// of terminal_jobs.ts. Output is written out at once, so there is never
// anything to drain (TCSETSW, TCSBRK, TIOCOUTQ). A request the terminal
// does not know is ENOTTY.
import { ttySettingsChanged } from "../drivers/tty";
import { flushInput, ttyPendingBytes } from "../drivers/tty_queue";
import { suspendOutput } from "../drivers/tty_output";
import { putRawByte } from "../console/console";
import { signalForeground } from "../drivers/tty_session";
import {
  TERMIOS_SIZE, TERMIO_SIZE, VSTART, VSTOP, WINSIZE_SIZE, controlCharacter, termioFrom, termioInto, termios, windowSize,
} from "../drivers/termios";
import { copyFromUser, copyToUser, putUser32 } from "../mm/user_copy";
import { Process, spaceOf } from "../proc/process";
import { signalPending } from "../proc/scheduler";
import { SIGWINCH } from "../proc/signal_action";
import { EFAULT, EINTR, EINVAL, EIO, ENOTTY } from "./errno";
import { NOT_JOB_CONTROL, TIOCSPGRP, jobControlIoctl } from "./terminal_jobs";
import { backgroundChange } from "./terminal_background";

const TCGETS: u32 = 0x5401;
const TCSETS: u32 = 0x5402;
const TCSETSW: u32 = 0x5403;
const TCSETSF: u32 = 0x5404;
const TCGETA: u32 = 0x5405;
const TCSETA: u32 = 0x5406;
const TCSETAW: u32 = 0x5407;
const TCSETAF: u32 = 0x5408;
const TCSBRK: u32 = 0x5409;
const TCXONC: u32 = 0x540a;
const TCFLSH: u32 = 0x540b;
const TIOCOUTQ: u32 = 0x5411;
const TIOCGWINSZ: u32 = 0x5413;
const TIOCSWINSZ: u32 = 0x5414;
export const FIONREAD: u32 = 0x541b; // TIOCINQ
const TCSBRKP: u32 = 0x5425;

// TCFLSH's queues and TCXONC's actions.
const TCIFLUSH: u64 = 0;
const TCOFLUSH: u64 = 1;
const TCIOFLUSH: u64 = 2;
const TCOOFF: u64 = 0;
const TCOON: u64 = 1;
const TCIOFF: u64 = 2;
const TCION: u64 = 3;

const image = <u32>memory.data(TERMIOS_SIZE, 4); // settings on their way in or out

/**
 * TCSETS and its kin: the whole structure is read before anything
 * changes; the F forms throw pending input away first; the W forms would
 * wait for output to drain (there is none), and are EINTR when a signal is
 * pending, as after Linux's wait.
 */
function setTermios(process: Process, from: u64, old: bool, flush: bool, wait: bool): i64 {
  memory.copy(image, changetype<u32>(termios), TERMIOS_SIZE);
  if (old) {
    const termio = <u32>memory.data(TERMIO_SIZE, 4);
    if (!copyFromUser(spaceOf(process), termio, from, TERMIO_SIZE)) return -EFAULT;
    termioInto(image, termio);
  } else if (!copyFromUser(spaceOf(process), image, from, TERMIOS_SIZE)) {
    return -EFAULT;
  }
  if (flush) flushInput();
  if (wait && signalPending()) return -EINTR;
  const localFlags = termios.lflag;
  const inputFlags = termios.iflag;
  memory.copy(changetype<u32>(termios), image, TERMIOS_SIZE);
  ttySettingsChanged(localFlags, inputFlags);
  return 0;
}

/** TIOCSWINSZ: a change is kept and signalled to the foreground group; the same size again is not. */
function setWindowSize(process: Process, from: u64): i64 {
  if (!copyFromUser(spaceOf(process), image, from, WINSIZE_SIZE)) return -EFAULT;
  if (load<u64>(image) == load<u64>(windowSize)) return 0;
  store<u64>(windowSize, load<u64>(image));
  signalForeground(SIGWINCH);
  return 0;
}

/** TCXONC: suspend or restart output, or send the terminal a STOP or START byte. */
function flowControl(action: u64): i64 {
  if (action == TCOOFF || action == TCOON) {
    suspendOutput(action == TCOOFF);
    return 0;
  }
  if (action != TCIOFF && action != TCION) return -EINVAL;
  const c = controlCharacter(action == TCIOFF ? VSTOP : VSTART);
  if (c != 0) putRawByte(c); // as it is, and even while output is stopped, as Linux sends it
  return 0;
}

function flush(queue: u64): i64 {
  if (queue != TCIFLUSH && queue != TCOFLUSH && queue != TCIOFLUSH) return -EINVAL;
  if (queue != TCOFLUSH) flushInput();
  return 0;
}

/** The requests that change the terminal, which a background process may make only as tty_check_change allows. */
function changesTerminal(command: u32): bool {
  return command == TCSETS || command == TCSETSW || command == TCSETSF || command == TCSETA || command == TCSETAW
    || command == TCSETAF || command == TCXONC || command == TCFLSH || command == TIOCSPGRP;
}

export function terminalIoctl(process: Process, command: u32, argument: u64): i64 {
  const space = spaceOf(process);
  if (changesTerminal(command)) {
    const stopped = backgroundChange(process);
    if (stopped != 0) return stopped == -EIO && command == TIOCSPGRP ? -ENOTTY : stopped;
  }
  switch (command) {
    case TCGETS: return copyToUser(space, argument, changetype<u32>(termios), TERMIOS_SIZE) ? 0 : -EFAULT;
    case TCSETS: return setTermios(process, argument, false, false, false);
    case TCSETSW: return setTermios(process, argument, false, false, true);
    case TCSETSF: return setTermios(process, argument, false, true, true);
    case TCGETA: {
      termioFrom(image);
      return copyToUser(space, argument, image, TERMIO_SIZE) ? 0 : -EFAULT;
    }
    case TCSETA: return setTermios(process, argument, true, false, false);
    case TCSETAW: return setTermios(process, argument, true, false, true);
    case TCSETAF: return setTermios(process, argument, true, true, true);
    case TCSBRK: case TCSBRKP: return 0; // drained already; the console cannot send a break, which Linux then skips
    case TCXONC: return flowControl(argument);
    case TCFLSH: return flush(argument);
    case TIOCOUTQ: return putUser32(space, argument, 0) ? 0 : -EFAULT;
    case FIONREAD: return putUser32(space, argument, ttyPendingBytes()) ? 0 : -EFAULT;
    case TIOCGWINSZ: return copyToUser(space, argument, windowSize, WINSIZE_SIZE) ? 0 : -EFAULT;
    case TIOCSWINSZ: return setWindowSize(process, argument);
  }
  const result = jobControlIoctl(process, command, argument);
  return result != NOT_JOB_CONTROL ? result : -ENOTTY;
}
