// The console as a controlling terminal, with Linux's job-control ioctls:
// TIOCGPGRP and TIOCSPGRP (the foreground process group, within the
// caller's session), TIOCGSID, TIOCSCTTY (a session leader takes the
// console; with argument 1 root takes it from another session, and every
// process here is root) and TIOCNOTTY (a process gives it up; when the
// session leader does, the session loses it and its foreground group gets
// SIGHUP and SIGCONT). A process has the console as its controlling
// terminal while its session holds it and it has not given it up; a
// session leader that takes it takes it for its whole session. Processes
// outside the foreground group are not sent SIGTTOU or SIGTTIN: stop
// signals are not implemented, and Linux would retry the call after the
// stop.
import { attachSession, foregroundGroup, setForegroundGroup, terminalSession } from "../drivers/tty_session";
import { copyFromUser, putUser32 } from "../mm/user_copy";
import { releaseTerminal } from "../proc/exit";
import { Process, ProcessState, processListHead, spaceOf } from "../proc/process";
import { EFAULT, EINVAL, ENOTTY, EPERM, ESRCH } from "./errno";
import { setNoTerminal } from "../proc/thread_group";

const TIOCSCTTY: u32 = 0x540e;
const TIOCGPGRP: u32 = 0x540f;
export const TIOCSPGRP: u32 = 0x5410;
const TIOCNOTTY: u32 = 0x5422;
const TIOCGSID: u32 = 0x5429;
/** jobControlIoctl's answer to a request that is none of these (positive: never a result of theirs). */
export const NOT_JOB_CONTROL: i64 = 1;

function controlsTerminal(process: Process): bool {
  const session = terminalSession();
  return session != 0 && process.sid == session && process.noTerminal == 0;
}

/** The session of process group `group` as Linux finds it: a member's, else the process's with that pid; 0 if neither exists. */
function sessionOfGroup(group: u32): u32 {
  let ofPid: u32 = 0;
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const p = changetype<Process>(at);
    if (p.state == ProcessState.Dead) continue;
    if (p.pgid == group) return p.sid;
    if (p.pid == group) ofPid = p.sid;
  }
  return ofPid;
}

function setForeground(process: Process, from: u64): i64 {
  if (!controlsTerminal(process)) return -ENOTTY;
  const value = memory.data(4, 4);
  if (!copyFromUser(spaceOf(process), <u32>value, from, 4)) return -EFAULT;
  const group = load<i32>(value);
  if (group < 0) return -EINVAL;
  const sid = sessionOfGroup(<u32>group);
  if (sid == 0) return -ESRCH;
  if (sid != process.sid) return -EPERM;
  setForegroundGroup(<u32>group);
  return 0;
}

function takeTerminal(process: Process, steal: bool): i64 {
  const leader = process.sid == process.tgid;
  if (leader && terminalSession() == process.sid) return 0;
  if (!leader) return -EPERM;
  if (terminalSession() != 0 && !steal) return -EPERM; // another session's
  attachSession(process.sid, process.pgid);
  setNoTerminal(process, 0);
  return 0;
}

function giveUpTerminal(process: Process): i64 {
  if (!controlsTerminal(process)) return -ENOTTY;
  releaseTerminal(process); // a session leader's session loses it
  setNoTerminal(process, 1);
  return 0;
}

export function jobControlIoctl(process: Process, command: u32, argument: u64): i64 {
  const space = spaceOf(process);
  switch (command) {
    case TIOCGPGRP: {
      if (!controlsTerminal(process)) return -ENOTTY;
      return putUser32(space, argument, foregroundGroup()) ? 0 : -EFAULT;
    }
    case TIOCSPGRP: return setForeground(process, argument);
    case TIOCGSID: {
      if (!controlsTerminal(process)) return -ENOTTY;
      return putUser32(space, argument, terminalSession()) ? 0 : -EFAULT;
    }
    case TIOCSCTTY: return takeTerminal(process, <i32>argument == 1);
    case TIOCNOTTY: return giveUpTerminal(process);
  }
  return NOT_JOB_CONTROL;
}
