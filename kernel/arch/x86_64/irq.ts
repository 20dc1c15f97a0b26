// Device interrupt lines: drivers register a handler for the legacy line
// their PCI function names (config offset 0x3c), and trap.ts runs every
// handler of a line when it fires. PCI lines are level-triggered and may
// be shared (virtio and AHCI often land on one), so each handler checks
// its own device and says nothing when the interrupt was not its own.
import { unmaskInterruptLine } from "./pic";

const LINES: u32 = 16;
const HANDLERS_PER_LINE: u32 = 4;
const handlers = memory.data(LINES * HANDLERS_PER_LINE * 4, 4);
const handlerData = memory.data(LINES * HANDLERS_PER_LINE * 4, 4);

/** Called with the word given at registration (the driver's device record). */
export type IrqHandler = (data: u32) => void;

/** Adds `handler` to line `irq` and opens the line; false if the line is out of range or full. */
export function registerIrqHandler(irq: u32, handler: IrqHandler, data: u32): bool {
  if (irq >= LINES) return false;
  for (let i: u32 = 0; i < HANDLERS_PER_LINE; i++) {
    const slot = (irq * HANDLERS_PER_LINE + i) * 4;
    if (load<u32>(handlers + slot) != 0) continue;
    store<u32>(handlers + slot, changetype<u32>(handler));
    store<u32>(handlerData + slot, data);
    unmaskInterruptLine(irq);
    return true;
  }
  return false;
}

/** Runs every handler of line `irq`; false when none is registered. */
export function runIrqHandlers(irq: u32): bool {
  let ran = false;
  for (let i: u32 = 0; i < HANDLERS_PER_LINE; i++) {
    const slot = (irq * HANDLERS_PER_LINE + i) * 4;
    const handler = load<u32>(handlers + slot);
    if (handler == 0) break;
    changetype<IrqHandler>(handler)(load<u32>(handlerData + slot));
    ran = true;
  }
  return ran;
}
