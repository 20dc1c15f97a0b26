// execve in a process with several threads: the others end first, and the
// caller carries on as the only one, with the process's pid (Linux's
// de_thread). What the process holds stays with it: its parent, children,
// timers, pending signals, limits and resource counts.
import { LIMITS_OFFSET, LIMITS_SIZE, Process, ProcessState, destroyProcess, leaderOf } from "./process";
import { killOtherThreads } from "./exit";
import { sleepOn } from "./scheduler";
import { discardSignals, threadPending } from "./signal_queue";

/**
 * Ends every other thread of `process`'s group and makes `process` its
 * leader. exec.ts has made sure no other thread is ending the process.
 */
export function becomeOnlyThread(process: Process): void {
  const group = leaderOf(process);
  if (group.threadCount == 1 && group == process) return;
  assert(group.groupExiting == 0, "execve: no other thread is ending the process");
  // Signals sent meanwhile are for a process being replaced: they go, as
  // they would to one exiting (Linux's group_exec_task).
  group.groupExiting = 1;
  killOtherThreads(process);
  while (group.threadCount > 1) sleepOn(changetype<u32>(group) + offsetof<Process>("threadCount"));
  if (group != process) takeOverLeadership(process, group);
  else group.groupExiting = 0;
}

/** The old leader has exited (a zombie nobody may reap): `thread` takes its pid and everything it held for the group. */
function takeOverLeadership(thread: Process, old: Process): void {
  thread.pid = old.pid;
  thread.leader = changetype<u32>(thread);
  thread.threadCount = 1;
  thread.groupExiting = 0;
  thread.parentPid = old.parentPid;
  thread.exitSignal = old.exitSignal;
  thread.jobStatus = old.jobStatus;
  thread.deathSignal = old.deathSignal;
  thread.startTime = old.startTime;
  thread.alarmAt = old.alarmAt;
  thread.alarmInterval = old.alarmInterval;
  thread.virtualTimerAt = old.virtualTimerAt;
  thread.virtualTimerInterval = old.virtualTimerInterval;
  thread.profTimerAt = old.profTimerAt;
  thread.profTimerInterval = old.profTimerInterval;
  thread.timers = old.timers;
  thread.nextTimerId = old.nextTimerId;
  thread.timerCount = old.timerCount;
  old.timers = 0;
  thread.sharedPendingSignals = old.sharedPendingSignals;
  thread.sharedSignalQueue = old.sharedSignalQueue;
  thread.sharedQueuedSignals = old.sharedQueuedSignals;
  old.sharedPendingSignals = 0;
  old.sharedSignalQueue = 0;
  old.sharedQueuedSignals = 0;
  thread.exitedUserCycles = old.exitedUserCycles + old.userCycles;
  thread.exitedSystemCycles = old.exitedSystemCycles + old.systemCycles;
  thread.exitedMinorFaults = old.exitedMinorFaults + old.minorFaults;
  thread.exitedVoluntarySwitches = old.exitedVoluntarySwitches + old.voluntarySwitches;
  thread.exitedInvoluntarySwitches = old.exitedInvoluntarySwitches + old.involuntarySwitches;
  thread.retiredPeakPages = max(thread.retiredPeakPages, old.retiredPeakPages);
  thread.childUserTime = old.childUserTime;
  thread.childSystemTime = old.childSystemTime;
  thread.childMinorFaults = old.childMinorFaults;
  thread.childVoluntarySwitches = old.childVoluntarySwitches;
  thread.childInvoluntarySwitches = old.childInvoluntarySwitches;
  thread.childPeakPages = old.childPeakPages;
  memory.copy(changetype<usize>(thread) + LIMITS_OFFSET, changetype<usize>(old) + LIMITS_OFFSET, LIMITS_SIZE);
  // The signal actions were the group's already, and are the new leader's to free now.
  old.leader = changetype<u32>(thread);
  discardSignals(threadPending(old), U64.MAX_VALUE);
  old.state = ProcessState.Dead;
  destroyProcess(old);
}
