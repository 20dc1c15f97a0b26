// The console's input side, a line discipline like a terminal's in
// canonical mode: keys from the PS/2 keyboard and bytes from the serial
// port are edited into a line (echoed, backspace erases), and read() gets
// whole lines. Ctrl-D ends input (read returns 0 at the start of a line),
// Ctrl-C discards the line and interrupts the foreground: every process but
// init is ended with SIGINT, and init's pending read returns EINTR.
import { AddressSpace } from "../mm/address_space";
import { copyToUser } from "../mm/user_copy";
import { signalPending, sleepOn, wakeUp } from "../lib/wait";
import { readSerialByte } from "../console/serial";
import { print, putByte } from "../console/console";
import { TextColor, setTextColor } from "../console/framebuffer";

const SIGINT: u32 = 2;
const LINE_MAX: u32 = 1024;
const READY_SIZE: u32 = 4096;

const line = memory.data(LINE_MAX);
let lineLength: u32 = 0;
const ready = memory.data(READY_SIZE); // finished lines waiting for read()
let readyHead: u32 = 0;
let readyCount: u32 = 0;
let endOfFile = false;
let interruptInit = false;
let initReading = false; // init sleeps in ttyRead: only then does Ctrl-C interrupt it
const channel = memory.data(4, 4); // what readers sleep on

export const TTY_INTERRUPTED: i64 = -1;
export const TTY_FAULT: i64 = -2;
export const TTY_WOULD_BLOCK: i64 = -3; // EAGAIN: no line yet, and the reader does not wait

function commitLine(): void {
  for (let i: u32 = 0; i < lineLength && readyCount < READY_SIZE; i++) {
    store<u8>(ready + (readyHead + readyCount) % READY_SIZE, load<u8>(line + i));
    readyCount++;
  }
  lineLength = 0;
  wakeUp(<u32>channel);
}

// What Ctrl-C does to processes, and whether the caller is init: the
// process layer knows, and registers them at boot.
let interruptAllButInit: ((signal: u32) => void) | null = null;
let callerIsInit: (() => bool) | null = null;

export function registerForeground(interrupt: (signal: u32) => void, isInit: () => bool): void {
  interruptAllButInit = interrupt;
  callerIsInit = isInit;
}

function isInit(): bool {
  const check = callerIsInit;
  return check != null && check();
}

function interruptForeground(): void {
  const interrupt = interruptAllButInit;
  if (interrupt != null) interrupt(SIGINT);
  if (initReading) interruptInit = true;
  wakeUp(<u32>channel);
}

/** One byte of input (a key or a serial byte), from an interrupt handler. */
export function ttyInput(byte: u32): void {
  if (byte == 0x0d) byte = 0x0a;
  if (byte == 0x03) { // Ctrl-C
    print("^C\n");
    lineLength = 0;
    interruptForeground();
  } else if (byte == 0x04) { // Ctrl-D
    if (lineLength == 0) endOfFile = true;
    commitLine();
  } else if (byte == 0x7f || byte == 0x08) {
    if (lineLength > 0) {
      lineLength--;
      print("\x08 \x08");
    }
  } else if (byte == 0x0a) {
    putByte(0x0a);
    store<u8>(line + lineLength++, 0x0a);
    commitLine();
  } else if ((byte >= 0x20 && byte < 0x7f) || byte == 0x09) {
    if (lineLength < LINE_MAX - 1) {
      store<u8>(line + lineLength++, <u8>byte);
      setTextColor(TextColor.Input);
      putByte(byte);
      setTextColor(TextColor.Kernel);
    }
  }
}

/** The serial port's interrupt: every byte it has is terminal input. */
export function handleSerialInterrupt(): void {
  for (let byte = readSerialByte(); byte >= 0; byte = readSerialByte()) ttyInput(<u32>byte);
}

/** Whether a read would not wait: a finished line, or the end of input (poll). */
export function ttyHasInput(): bool {
  return readyCount > 0 || endOfFile;
}

/** read() on the console: at most one line; 0 at end of input. Waits for a line unless `nonblocking`. */
export function ttyRead(space: AddressSpace, to: u64, count: u64, nonblocking: bool): i64 {
  if (count == 0) return 0;
  while (true) {
    if (readyCount > 0) {
      let n: u32 = 0;
      while (n < readyCount && <u64>n < count) {
        const c = load<u8>(ready + (readyHead + n) % READY_SIZE);
        n++;
        if (c == 0x0a) break;
      }
      const first = min(n, READY_SIZE - readyHead);
      if (!copyToUser(space, to, <u32>ready + readyHead, first)) return TTY_FAULT;
      if (n > first && !copyToUser(space, to + first, <u32>ready, n - first)) return TTY_FAULT;
      readyHead = (readyHead + n) % READY_SIZE;
      readyCount -= n;
      return n;
    }
    if (endOfFile) {
      endOfFile = false;
      return 0;
    }
    if (nonblocking) return TTY_WOULD_BLOCK;
    if (signalPending()) return TTY_INTERRUPTED;
    if (isInit() && interruptInit) {
      interruptInit = false;
      return TTY_INTERRUPTED;
    }
    const init = isInit();
    if (init) initReading = true;
    sleepOn(<u32>channel);
    if (init) initReading = false;
  }
  return 0; // not reached: the loop returns
}
