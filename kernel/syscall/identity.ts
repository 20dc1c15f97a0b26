// Who a process is: user and group ids (there is one user, root, so every
// id is 0 and only 0 may be set), process groups and sessions.
import { Process, ProcessState, findLiveProcess, findProcess, processListHead, spaceOf } from "../proc/process";
import { copyFromUser, copyToUser } from "../mm/user_copy";
import { EFAULT, EINVAL, EPERM, ESRCH } from "./errno";
import { setProcessGroup } from "../proc/thread_group";

/** getuid, geteuid, getgid, getegid. */
export function sysGetId(): i64 {
  return 0;
}

/** getresuid and getresgid: real, effective and saved, all 0. */
export function sysGetResId(process: Process, real: u64, effective: u64, saved: u64): i64 {
  const zero = memory.data(4, 4);
  store<u32>(zero, 0);
  const space = spaceOf(process);
  return copyToUser(space, real, <u32>zero, 4) && copyToUser(space, effective, <u32>zero, 4) &&
    copyToUser(space, saved, <u32>zero, 4) ? 0 : -EFAULT;
}

/** setuid, setgid and their re/res forms: ids stay 0 (-1 keeps one); another user cannot be taken on here. */
export function sysSetIds(a: u64, b: u64, c: u64): i64 {
  const keep: u32 = U32.MAX_VALUE;
  for (let i = 0; i < 3; i++) {
    const id = <u32>(i == 0 ? a : i == 1 ? b : c);
    if (id != 0 && id != keep) return -EPERM;
  }
  return 0;
}

const NGROUPS_MAX: i64 = 65536;

/** getgroups: no supplementary groups (root's only group is its own, 0). */
export function sysGetgroups(size: i64): i64 {
  return size < 0 ? -EINVAL : 0;
}

/** setgroups: a list of group 0 only, taken as none (getgroups still says 0). */
export function sysSetgroups(process: Process, size: i64, list: u64): i64 {
  if (size < 0 || size > NGROUPS_MAX) return -EINVAL;
  const gid = memory.data(4, 4);
  for (let i: i64 = 0; i < size; i++) {
    if (!copyFromUser(spaceOf(process), <u32>gid, list + <u64>i * 4, 4)) return -EFAULT;
    if (load<u32>(gid) != 0) return -EPERM;
  }
  return 0;
}

/** The target of setpgid/getpgid/getsid: pid 0 is the caller. */
function targetOf(process: Process, pid: i64): Process | null {
  return pid == 0 ? process : findLiveProcess(pid);
}

/** Whether some process of session `sid` leads group `pgid` (a group one may join). */
function groupInSession(pgid: u32, sid: u32): bool {
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    const p = changetype<Process>(at);
    if (p.pgid == pgid && p.sid == sid && p.state != ProcessState.Dead) return true;
  }
  return false;
}

/** setpgid, with Linux's rules: oneself or a child, within one session, never a session leader. */
export function sysSetpgid(process: Process, pid: i64, pgid: i64): i64 {
  if (pgid < 0) return -EINVAL;
  const target = targetOf(process, pid);
  if (target == null || (target.tgid != process.tgid && target.parentPid != process.tgid)) return -ESRCH;
  if (target.sid != process.sid) return -EPERM;
  if (target.sid == target.tgid) return -EPERM; // a session leader stays where it is
  const group = pgid == 0 ? target.tgid : <u32>pgid;
  if (group != target.tgid && !groupInSession(group, process.sid)) return -EPERM;
  setProcessGroup(target, group, target.sid);
  return 0;
}

export function sysGetpgid(process: Process, pid: i64): i64 {
  const target = targetOf(process, pid);
  return target == null ? -ESRCH : target.pgid;
}

export function sysGetsid(process: Process, pid: i64): i64 {
  const target = targetOf(process, pid);
  return target == null ? -ESRCH : target.sid;
}

/** setsid: a new session and group led by the caller, unless it leads a group already. */
export function sysSetsid(process: Process): i64 {
  for (let at = processListHead(); at != 0; at = changetype<Process>(at).allNext) {
    if (changetype<Process>(at).pgid == process.tgid) return -EPERM; // someone's group has its number
  }
  setProcessGroup(process, process.tgid, process.tgid);
  return process.tgid;
}

const CAPABILITY_VERSION_1: u32 = 0x19980330;
const CAPABILITY_VERSION_2: u32 = 0x20071026;
const CAPABILITY_VERSION_3: u32 = 0x20080522;
// CAP_LAST_CAP is 40 in Linux 6.1: root holds capabilities 0..40.
const ALL_CAPABILITIES_LOW: u32 = 0xffffffff;
const ALL_CAPABILITIES_HIGH: u32 = 0x1ff;

/** Checks a capability header; the number of data words (1 or 2), or a negative errno (with the version Linux wants written back). */
function capabilityWords(process: Process, header: u64): i64 {
  const head = memory.data(8, 4);
  if (!copyFromUser(spaceOf(process), <u32>head, header, 8)) return -EFAULT;
  const version = load<u32>(head);
  const pid = load<i32>(head + 4);
  if (version != CAPABILITY_VERSION_1 && version != CAPABILITY_VERSION_2 && version != CAPABILITY_VERSION_3) {
    store<u32>(head, CAPABILITY_VERSION_3);
    return copyToUser(spaceOf(process), header, <u32>head, 4) ? -EINVAL : -EFAULT;
  }
  if (pid < 0) return -EINVAL;
  if (pid != 0 && <u32>pid != process.pid && findProcess(<u32>pid) == null) return -ESRCH;
  return version == CAPABILITY_VERSION_1 ? 1 : 2;
}

/** capget: every process runs as root here and holds every capability (effective, permitted; none inheritable). */
export function sysCapget(process: Process, header: u64, data: u64): i64 {
  const words = capabilityWords(process, header);
  if (words < 0 || data == 0) return words < 0 ? words : 0;
  const out = memory.data(24, 4);
  memory.fill(out, 0, 24);
  store<u32>(out, ALL_CAPABILITIES_LOW); // effective
  store<u32>(out + 4, ALL_CAPABILITIES_LOW); // permitted
  if (words == 2) {
    store<u32>(out + 12, ALL_CAPABILITIES_HIGH);
    store<u32>(out + 16, ALL_CAPABILITIES_HIGH);
  }
  return copyToUser(spaceOf(process), data, <u32>out, <u32>words * 12) ? 0 : -EFAULT;
}

/** capset: keeping every capability is allowed; dropping any is not supported yet (EPERM), never pretended. */
export function sysCapset(process: Process, header: u64, data: u64): i64 {
  const words = capabilityWords(process, header);
  if (words < 0) return words;
  const given = memory.data(24, 4);
  if (!copyFromUser(spaceOf(process), <u32>given, data, <u64>words * 12)) return -EFAULT;
  for (let i: u32 = 0; i < <u32>words; i++) {
    const all = i == 0 ? ALL_CAPABILITIES_LOW : ALL_CAPABILITIES_HIGH;
    const at = <u32>given + i * 12;
    if (load<u32>(at) != all || load<u32>(at + 4) != all || load<u32>(at + 8) != 0) return -EPERM;
  }
  return 0;
}
