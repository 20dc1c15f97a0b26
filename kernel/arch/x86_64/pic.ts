// The 8259 interrupt controllers and the PIT timer: the PICs are moved to
// vectors 32..47 (away from the CPU exceptions) with every line masked
// until irq.ts opens it, and the PIT's channel 0 interrupts TIMER_HZ times
// a second. When the IO-APIC routes interrupts instead, the PICs stay
// masked: moved all the same, so a spurious interrupt of theirs lands on a
// device vector, not on a CPU exception.
import { inb, outb } from "./cpu";

export const IRQ_BASE: u32 = 32;
export const IRQ_TIMER: u32 = 0;
export const IRQ_KEYBOARD: u32 = 1;
export const IRQ_SERIAL: u32 = 4;
export const TIMER_HZ: u32 = 250;
const PIT_HZ: u32 = 1193182;

export function initPic(): void {
  outb(0x20, 0x11); // ICW1: edge triggered, cascade, ICW4 follows
  outb(0xa0, 0x11);
  outb(0x21, IRQ_BASE); // ICW2: vector base
  outb(0xa1, IRQ_BASE + 8);
  outb(0x21, 0x04); // ICW3: slave on line 2
  outb(0xa1, 0x02);
  outb(0x21, 0x01); // ICW4: 8086 mode
  outb(0xa1, 0x01);
  outb(0x21, 0xff);
  outb(0xa1, 0xff);
}

export function startPit(): void {
  const divisor = PIT_HZ / TIMER_HZ;
  outb(0x43, 0x34); // channel 0, low then high byte, rate generator
  outb(0x40, divisor & 0xff);
  outb(0x40, divisor >> 8);
}

/** Opens line `irq`; a line of the second controller also opens the cascade (line 2). */
export function unmaskPicLine(irq: u32): void {
  if (irq >= 8) {
    outb(0xa1, inb(0xa1) & ~(1 << (irq - 8)) & 0xff);
    irq = 2;
  }
  outb(0x21, inb(0x21) & ~(1 << irq) & 0xff);
}

export function picEndOfInterrupt(irq: u32): void {
  if (irq >= 8) outb(0xa0, 0x20);
  outb(0x20, 0x20);
}
