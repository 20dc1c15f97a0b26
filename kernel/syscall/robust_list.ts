// set_robust_list and get_robust_list: where a process's libc keeps the
// list of robust futexes it holds (kernel/proc/robust_list.ts walks it at
// exit and exec). As Linux: the head is taken without a check, only its
// size must be struct robust_list_head's; a fork child starts with none.
import { putUser64 } from "../mm/user_copy";
import { Process, findLiveProcess, spaceOf } from "../proc/process";
import { ROBUST_LIST_HEAD_SIZE } from "../proc/robust_list";
import { EFAULT, EINVAL, ESRCH } from "./errno";

export function sysSetRobustList(process: Process, head: u64, length: u64): i64 {
  if (length != ROBUST_LIST_HEAD_SIZE) return -EINVAL;
  process.robustList = head;
  return 0;
}

/** pid 0 is the caller; every process here may read another's (root's ptrace access). */
export function sysGetRobustList(process: Process, pid: i32, headAt: u64, lengthAt: u64): i64 {
  const target = pid == 0 ? process : findLiveProcess(pid);
  if (target == null) return -ESRCH;
  const space = spaceOf(process);
  if (!putUser64(space, lengthAt, ROBUST_LIST_HEAD_SIZE)) return -EFAULT;
  return putUser64(space, headAt, target.robustList) ? 0 : -EFAULT;
}
