// Sending signals: kill (to a process, a process group or all), tkill and
// tgkill (to one thread), and
// rt_sigqueueinfo and rt_tgsigqueueinfo, which send a siginfo of the
// caller's making, so si_value reaches the handler (sigqueue).
import { copyFromUser } from "../mm/user_copy";
import { Process, ProcessState, findLiveProcess, isGroupLeader, processListHead, spaceOf } from "../proc/process";
import { sendSignal, sendThreadSignal, signalProcess } from "../proc/scheduler";
import { MAX_SIGNAL, SI_TKILL } from "../proc/signal_action";
import { EAGAIN, EFAULT, EINVAL, EPERM, ESRCH } from "./errno";

/**
 * kill, with each signal's default action (signal.ts): to one process
 * (pid > 0), to the caller's process group (0) or another (-pgid), or to
 * every process but init and the caller (-1). Signal 0 only checks that
 * the target exists; a zombie still does.
 */
export function sysKill(process: Process, pid: i64, signal: i64): i64 {
  if (signal < 0 || signal > <i64>MAX_SIGNAL) return -EINVAL;
  if (pid <= 0) {
    if (pid < -<i64>U32.MAX_VALUE) return -ESRCH;
    const group = pid == 0 ? process.pgid : <u32>-pid;
    let found = false;
    for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
      const target = changetype<Process>(at);
      if (target.state == ProcessState.Dead || !isGroupLeader(target)) continue; // a signal to each process, not each thread
      if (pid == -1 ? target.tgid == 1 || target.tgid == process.tgid : target.pgid != group) continue;
      found = true;
      if (signal != 0) signalProcess(target, <u32>signal, process.tgid);
    }
    return found ? 0 : -ESRCH;
  }
  const target = findLiveProcess(pid);
  if (target == null) return -ESRCH;
  if (signal != 0) signalProcess(target, <u32>signal, process.tgid);
  return 0;
}

/** tgkill(tgid, tid, sig): to thread `tid` if it belongs to process `tgid`. si_code is SI_TKILL. */
export function sysTgkill(process: Process, group: i64, thread: i64, signal: i64): i64 {
  if (group <= 0) return -EINVAL;
  return signalThread(process, group, thread, signal);
}

/** tkill(tid, sig): tgkill without the process check. */
export function sysTkill(process: Process, thread: i64, signal: i64): i64 {
  return signalThread(process, 0, thread, signal);
}

function signalThread(process: Process, group: i64, thread: i64, signal: i64): i64 {
  if (signal < 0 || signal > <i64>MAX_SIGNAL || thread <= 0) return -EINVAL;
  const target = findLiveProcess(thread);
  if (target == null || group > 0 && <i64>target.tgid != group) return -ESRCH;
  if (signal != 0 && !sendThreadSignal(target, <u32>signal, SI_TKILL, <u64>process.tgid, 0)) return -EAGAIN;
  return 0;
}

const SIGINFO_SIZE: u32 = 128;

/**
 * rt_tgsigqueueinfo(tgid, tid, sig, info); rt_sigqueueinfo is the same
 * with tgid -1. As Linux: a siginfo claiming to come from the kernel or
 * from kill (si_code >= 0, or SI_TKILL) may only be sent to oneself.
 */
export function sysRtTgsigqueueinfo(process: Process, group: i64, thread: i64, signal: i64, info: u64): i64 {
  const buffer = memory.data(SIGINFO_SIZE, 8);
  if (!copyFromUser(spaceOf(process), <u32>buffer, info, SIGINFO_SIZE)) return -EFAULT;
  if (signal < 0 || signal > <i64>MAX_SIGNAL || thread <= 0 || group == 0 || group < -1) return -EINVAL;
  const target = findLiveProcess(thread);
  if (target == null || group > 0 && <i64>target.tgid != group) return -ESRCH;
  const code = load<i32>(buffer + 8);
  if ((code >= 0 || code == SI_TKILL) && target.tgid != process.tgid) return -EPERM;
  if (signal == 0) return 0;
  const first = load<u64>(buffer + 16);
  const second = load<u64>(buffer + 24);
  // rt_sigqueueinfo (group -1) is to the process; rt_tgsigqueueinfo to the one thread.
  const sent = group == -1 ? sendSignal(target, <u32>signal, code, first, second) : sendThreadSignal(target, <u32>signal, code, first, second);
  if (!sent) return -EAGAIN;
  return 0;
}
