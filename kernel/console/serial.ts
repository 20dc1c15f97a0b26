// COM1, the 16550 UART every PC and QEMU has: 115200 baud, 8N1, polled.
import { inb, outb } from "../arch/x86_64/cpu";

const COM1: u32 = 0x3f8;
const DATA: u32 = 0;
const INTERRUPT_ENABLE: u32 = 1;
const FIFO_CONTROL: u32 = 2;
const LINE_CONTROL: u32 = 3;
const MODEM_CONTROL: u32 = 4;
const LINE_STATUS: u32 = 5;
const TRANSMIT_EMPTY: u32 = 0x20;

export function serialInit(): void {
  outb(COM1 + INTERRUPT_ENABLE, 0);
  outb(COM1 + LINE_CONTROL, 0x80); // divisor latch
  outb(COM1 + DATA, 1); // 115200 / 1
  outb(COM1 + INTERRUPT_ENABLE, 0);
  outb(COM1 + LINE_CONTROL, 0x03); // 8 bits, no parity, one stop bit
  outb(COM1 + FIFO_CONTROL, 0xc7); // FIFOs on and cleared
  outb(COM1 + MODEM_CONTROL, 0x0b); // DTR, RTS, OUT2 (routes the UART's interrupt to the PIC)
  outb(COM1 + INTERRUPT_ENABLE, 0x01); // interrupt when a byte arrives
}

const DATA_READY: u32 = 0x01;

/** The next byte the serial port has received, or -1 (the terminal takes them: tty.ts). */
export function readSerialByte(): i32 {
  return (inb(COM1 + LINE_STATUS) & DATA_READY) != 0 ? <i32>inb(COM1 + DATA) : -1;
}

export function serialWrite(byte: u32): void {
  // Bounded so a missing UART (some laptops) slows output instead of hanging.
  for (let spins = 0; spins < 100000; spins++) {
    if (inb(COM1 + LINE_STATUS) & TRANSMIT_EMPTY) break;
  }
  outb(COM1 + DATA, byte);
}
