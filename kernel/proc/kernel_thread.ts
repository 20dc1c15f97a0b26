// Kernel threads: processes that never enter user mode, for the kernel's
// own work that must be able to sleep (writeback and reclaim, in
// mm/balance.ts), as Linux's kthreads. Each is a record in the process
// table, shown in /proc as [NAME], with an empty address space, no open
// files, and no parent; signals sent to one are ignored (Linux's kthreads
// ignore them all), so kill(-1) and the like pass it by. Its first switch
// enters kernel_thread_entry (entry.c), which calls kernelThreadMain.
import { createProcess, setProcessName } from "./process";
import { currentProcess, makeRunnable } from "./scheduler";
import { storeAscii } from "../lib/ascii";

/** Starts a kernel thread named `name` that runs `main` (which never returns); false when out of memory. */
export function startKernelThread(name: string, main: () => void): bool {
  const thread = createProcess(0, null, false, changetype<u32>(main));
  if (thread == null) return false;
  const bytes = memory.data(16);
  storeAscii(bytes, name);
  setProcessName(thread, <u32>bytes, <u32>name.length);
  makeRunnable(thread);
  return true;
}

/** Where a kernel thread begins (kernel/main.ts exports it to entry.c). */
export function kernelThreadMain(): void {
  const thread = currentProcess();
  changetype<() => void>(thread.kernelMain)();
  assert(false, "kernelThreadMain: a kernel thread's function returned");
}
