// Orphaned process groups (POSIX job control): a group none of whose
// members has a parent in another group of the same session has nobody
// left who could continue its stopped members. When an exit makes such a
// group and it has a stopped member, every member gets SIGHUP then SIGCONT,
// as Linux's kill_orphaned_pgrp does, so no job stays stopped forever.
import { Process, ProcessState, findProcess, isGroupLeader, processListHead } from "./process";
import { signalProcess } from "./scheduler";
import { SIGCONT, SIGHUP } from "./signal_action";

@inline function alive(p: Process): bool {
  return p.state != ProcessState.Zombie && p.state != ProcessState.Dead;
}

/** Whether group `pgid` is orphaned once `leaving` (if any) is gone. */
function orphanedWithout(pgid: u32, leaving: Process | null): bool {
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const p = changetype<Process>(at);
    if (p == leaving || p.pgid != pgid || !alive(p) || p.parentPid == 1) continue;
    const parent = findProcess(p.parentPid);
    if (parent != null && parent != leaving && parent.pgid != pgid && parent.sid == p.sid) return false;
  }
  return true;
}

/** Whether group `pgid` is orphaned now (the terminal refuses to stop such a group). */
export function isOrphanedGroup(pgid: u32): bool {
  return orphanedWithout(pgid, null);
}

function hasStopped(pgid: u32): bool {
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const p = changetype<Process>(at);
    if (p.pgid == pgid && p.state == ProcessState.Stopped) return true;
  }
  return false;
}

function hangUpGroup(pgid: u32): void {
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const p = changetype<Process>(at);
    if (p.pgid != pgid || !alive(p) || !isGroupLeader(p)) continue; // once a process, not once a thread
    signalProcess(p, SIGHUP);
    signalProcess(p, SIGCONT);
  }
}

/** `exiting` is leaving (its children still its own): its own group and its children's may now be orphaned. */
export function hangUpOrphanedGroups(exiting: Process): void {
  const parent = findProcess(exiting.parentPid);
  if (parent != null && parent.pgid != exiting.pgid && parent.sid == exiting.sid
    && orphanedWithout(exiting.pgid, exiting) && hasStopped(exiting.pgid)) {
    hangUpGroup(exiting.pgid);
  }
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const child = changetype<Process>(at);
    if (child.parentPid != exiting.pid || child.pgid == exiting.pgid || child.sid != exiting.sid) continue;
    if (orphanedWithout(child.pgid, exiting) && hasStopped(child.pgid)) hangUpGroup(child.pgid);
  }
}
