// Job control at the console, as Linux's tty_check_change: a process of a
// background group of the console's session that reads it is stopped
// with its whole group by SIGTTIN; one that writes (with TOSTOP set) or
// changes the settings or the foreground group, by SIGTTOU. The call is
// restarted when the group is continued, as -ERESTARTSYS is. A process
// that ignores or blocks the signal, or whose group is orphaned (nobody
// could continue it), gets EIO instead for a read and goes ahead otherwise.
import { terminalSession, foregroundGroup } from "../drivers/tty_session";
import { localFlag, TOSTOP } from "../drivers/termios";
import { isOrphanedGroup } from "../proc/orphans";
import { Process } from "../proc/process";
import { signalGroup } from "../proc/scheduler";
import { SIGTTIN, SIGTTOU, SIG_IGN, actionOf, bitOf } from "../proc/signal_action";
import { EINTR, EIO } from "./errno";

function inBackground(process: Process): bool {
  const session = terminalSession();
  const foreground = foregroundGroup();
  return session != 0 && process.sid == session && process.noTerminal == 0 && foreground != 0 && process.pgid != foreground;
}

/** 0 to go ahead, -EIO, or -EINTR once `signal` is sent to the caller's group. */
function check(process: Process, signal: u32): i64 {
  if (!inBackground(process)) return 0;
  if ((process.blockedSignals & bitOf(signal)) != 0 || actionOf(process, signal).handler == SIG_IGN) {
    return signal == SIGTTIN ? -EIO : 0;
  }
  if (isOrphanedGroup(process.pgid)) return -EIO;
  signalGroup(process.pgid, signal);
  return -EINTR;
}

export function backgroundRead(process: Process): i64 {
  return check(process, SIGTTIN);
}

export function backgroundWrite(process: Process): i64 {
  return localFlag(TOSTOP) ? check(process, SIGTTOU) : 0;
}

/** TCSETS and its kin, TIOCSPGRP, TCFLSH, TCXONC: changing the terminal. */
export function backgroundChange(process: Process): i64 {
  return check(process, SIGTTOU);
}
