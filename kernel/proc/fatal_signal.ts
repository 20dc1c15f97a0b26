// How a signal's default action ends a process. The "core" signals dump
// core first (core_dump.ts); when one was written the wait status carries
// WCOREDUMP, the parent hears CLD_DUMPED, and a console report of the death
// (a segfault line) ends with "(core dumped)", as a shell says it.
import { print } from "../console/console";
import { dumpCore } from "./core_dump";
import { exitCurrent } from "./exit";
import { currentProcess } from "./scheduler";
import { SignalAction, WAIT_CORE_DUMPED, defaultAction } from "./signal_action";
import { SIGNAL_INFO_SIZE, SignalInfo } from "./signal_info";

/**
 * Ends the current process, killed by `info`'s signal. `reported`: the
 * caller began a console line about the death, which this ends. Never
 * returns.
 */
export function dieOfSignal(info: SignalInfo, reported: bool): void {
  const signal = info.signal;
  const dumped = defaultAction(signal) == SignalAction.Core && dumpCore(currentProcess(), info);
  if (reported) print(dumped ? " (core dumped)\n" : "\n");
  exitCurrent(signal | (dumped ? WAIT_CORE_DUMPED : 0));
}

const faultInfo = memory.data(SIGNAL_INFO_SIZE, 8);

/** A fault no handler takes ends the process: its siginfo has the fault's si_code and si_addr. Never returns. */
export function dieOfFault(signal: u32, code: i32, address: u64, reported: bool): void {
  const info = changetype<SignalInfo>(faultInfo);
  info.next = 0;
  info.signal = signal;
  info.code = code;
  info.timer = 0;
  info.first = address;
  info.second = 0;
  dieOfSignal(info, reported);
}
