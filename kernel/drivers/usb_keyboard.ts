// A USB keyboard on the xHCI controller, in the HID boot protocol every
// keyboard speaks (8-byte reports: modifier bits, a reserved byte, up to
// six usage codes of keys held down). A key is typed when its code appears
// in a report that did not hold it, and repeats while held; Caps Lock, Ctrl
// and the US layout are the PS/2 driver's (typeCharacter).
import { rdtsc } from "../arch/x86_64/cpu";
import { printf } from "../console/console";
import { str } from "../lib/format";
import { pressDelete, typeCharacter } from "./keyboard";
import { toggleFrameMap } from "./frame_map";
import { allocPage } from "../mm/buddy";
import { FrameState } from "../mm/frame";
import { tscAfter } from "../time/clock";
import {
  Ring, addressDevice, configureInterruptEndpoint, controlTransfer, initialMaxPacket0, nextCompletedTransfer, portSpeed,
  queueTransferIn, resetPort, setupPacket, startXhci, transferSucceeded, updateMaxPacket, xhciProblem,
} from "./xhci";

// Usage codes 0x04..0x38 (letters, digits, Enter, Esc, Backspace, Tab, space, punctuation); "\0": no character.
// Enter types CR, as on the PS/2 keyboard.
const NORMAL = "abcdefghijklmnopqrstuvwxyz1234567890\r\x1b\x7f\t -=[]\\\0;'`,./";
const SHIFTED = "ABCDEFGHIJKLMNOPQRSTUVWXYZ!@#$%^&*()\r\x1b\x7f\t _+{}|\0:\"~<>?";
const FIRST_USAGE: u32 = 0x04;
const CAPS_LOCK: u32 = 0x39;
const DELETE: u32 = 0x4c;
const F12: u32 = 0x45;
const CONTROL_BITS: u32 = 0x11; // left and right Ctrl
const ALT_BITS: u32 = 0x44;
const SHIFT_BITS: u32 = 0x22;
const REPORT_BYTES: u32 = 8;
const REPORTS_QUEUED: u32 = 8;

const ep0 = changetype<Ring>(memory.data(12, 4));
const reportRing = changetype<Ring>(memory.data(12, 4));
let slot: u32 = 0;
let endpoint: u32 = 0; // device context index of the interrupt IN endpoint
let buffers: u32 = 0; // REPORTS_QUEUED report buffers, then a scratch area for descriptors
const previous = memory.data(REPORT_BYTES);
let capsLock = false;

function getDescriptor(type: u32, length: u32, into: u32): bool {
  return controlTransfer(ep0, slot, setupPacket(0x80, 6, type << 8, 0, length), length, into);
}

function request(requestType: u32, request: u32, value: u32, index: u32): bool {
  return controlTransfer(ep0, slot, setupPacket(requestType, request, value, index, 0), 0, 0);
}

/**
 * Sets up the device on `port` if it is a boot-protocol keyboard: its
 * address, configuration, boot protocol, and the interrupt endpoint that
 * reports keys. False if it is not one (or does not answer).
 */
function setUpKeyboard(port: u32): bool {
  slot = addressDevice(port, ep0);
  if (slot == 0) return false;
  const scratch = buffers + REPORTS_QUEUED * REPORT_BYTES;
  if (!getDescriptor(1, 8, scratch)) return false; // device descriptor: the first 8 bytes hold endpoint 0's packet size
  // SuperSpeed devices give the size as a power of two.
  const speed = portSpeed(port);
  const maxPacket0: u32 = speed >= 4 ? 1 << min(<u32>load<u8>(scratch + 7), 9) : load<u8>(scratch + 7);
  if (maxPacket0 != initialMaxPacket0(speed) && !updateMaxPacket(slot, maxPacket0, ep0)) return false;
  if (!getDescriptor(2, 9, scratch)) return false; // configuration descriptor header
  const total = min(<u32>load<u16>(scratch + 2), 1024);
  const configuration = <u32>load<u8>(scratch + 5);
  if (!getDescriptor(2, total, scratch)) return false;
  // Find a keyboard interface (class 3 HID, subclass 1 boot, protocol 1 keyboard) and its interrupt IN endpoint.
  let keyboardInterface: i32 = -1;
  let inKeyboard = false;
  for (let at: u32 = 0; at + 2 <= total && load<u8>(scratch + at) != 0; at += load<u8>(scratch + at)) {
    const type = load<u8>(scratch + at + 1);
    if (type == 4) {
      inKeyboard = load<u8>(scratch + at + 5) == 3 && load<u8>(scratch + at + 6) == 1 && load<u8>(scratch + at + 7) == 1;
      if (inKeyboard) keyboardInterface = load<u8>(scratch + at + 2);
    } else if (type == 5 && inKeyboard && (load<u8>(scratch + at + 2) & 0x80) != 0 && (load<u8>(scratch + at + 3) & 3) == 3) {
      const address = <u32>load<u8>(scratch + at + 2) & 0xf;
      const maxPacket = <u32>load<u16>(scratch + at + 4) & 0x7ff;
      // xHCI wants the polling interval as n for 2^n * 125 us. A full- or
      // low-speed device gives bInterval in ms; a faster one gives n + 1.
      const interval = max(<u32>load<u8>(scratch + at + 6), 1);
      const exponent = speed >= 3 ? min(interval, 16) - 1 : min(31 - clz(interval) + 3, 10);
      const dci = address * 2 + 1;
      // The controller learns of the endpoint before the device is configured (xHCI 4.3.5).
      if (!configureInterruptEndpoint(slot, port, dci, maxPacket, exponent, reportRing)) return false;
      if (!request(0x00, 9, configuration, 0)) return false; // SET_CONFIGURATION
      if (!request(0x21, 0x0b, 0, <u32>keyboardInterface)) return false; // SET_PROTOCOL: boot
      request(0x21, 0x0a, 0, <u32>keyboardInterface); // SET_IDLE: report only on change (optional for the device)
      // Only now may the timer's polling take events: until here they were the setup's.
      endpoint = dci;
      return true;
    }
  }
  return false;
}

/** Finds a USB keyboard on the first xHCI controller and starts listening to it. */
export function initUsbKeyboard(): void {
  const ports = startXhci();
  if (ports == 0) {
    if (xhciProblem != null) printf("usb: %s\n", str(changetype<string>(xhciProblem)));
    return;
  }
  buffers = allocPage(FrameState.KernelObject, true);
  if (buffers == 0) return;
  for (let port: u32 = 1; port <= ports; port++) {
    if (!resetPort(port) || !setUpKeyboard(port)) continue;
    for (let i: u32 = 0; i < REPORTS_QUEUED; i++) queueReport(buffers + i * REPORT_BYTES);
    printf("usb: keyboard on port %d of the xHCI controller (slot %d)\n", port, slot);
    return;
  }
  printf("usb: xHCI controller with %d ports, no keyboard found\n", ports);
}

function queueReport(buffer: u32): void {
  queueTransferIn(reportRing, slot, endpoint, buffer, REPORT_BYTES);
}

const ROLLOVER: u8 = 0x01; // every key slot says "too many keys": the report holds no state
// Typematic repeat, which a USB keyboard leaves to the host (a PS/2 one repeats by itself).
const REPEAT_DELAY_NS: u64 = 500000000;
const REPEAT_INTERVAL_NS: u64 = 33000000; // about 30 characters a second
let repeatUsage: u32 = 0; // the last key pressed, while it is held
let repeatAt: u64 = 0; // TSC value of its next repeat
let heldModifiers: u32 = 0;

function typeUsage(usage: u32): void {
  const index = <i32>(usage - FIRST_USAGE);
  if (index >= NORMAL.length) return;
  const c = <u32>((heldModifiers & SHIFT_BITS) != 0 ? SHIFTED : NORMAL).charCodeAt(index);
  typeCharacter(c, capsLock, (heldModifiers & CONTROL_BITS) != 0);
}

function typeReport(report: u32): void {
  if (load<u8>(report + 2) == ROLLOVER) return;
  heldModifiers = <u32>load<u8>(report);
  let stillHeld = false;
  for (let i: u32 = 2; i < REPORT_BYTES; i++) {
    const usage = <u32>load<u8>(report + i);
    if (usage < FIRST_USAGE) continue; // no key
    if (usage == repeatUsage) stillHeld = true;
    let held = false;
    for (let j: u32 = 2; j < REPORT_BYTES; j++) if (load<u8>(previous + j) == usage) held = true;
    if (held) continue;
    if (usage == CAPS_LOCK) {
      capsLock = !capsLock;
      continue;
    }
    if (usage == DELETE) {
      pressDelete((heldModifiers & CONTROL_BITS) != 0, (heldModifiers & ALT_BITS) != 0);
      continue;
    }
    if (usage == F12) {
      toggleFrameMap();
      continue;
    }
    typeUsage(usage);
    repeatUsage = usage;
    repeatAt = tscAfter(REPEAT_DELAY_NS);
    stillHeld = true;
  }
  if (!stillHeld) repeatUsage = 0;
  memory.copy(previous, report, REPORT_BYTES);
}

/**
 * Called on every timer tick: types the keys of any reports that arrived
 * (queueing their buffers again), and repeats a key held long enough.
 */
export function pollUsbKeyboard(): void {
  if (endpoint == 0) return;
  for (let buffer = nextCompletedTransfer(slot, endpoint); buffer != 0; buffer = nextCompletedTransfer(slot, endpoint)) {
    if (transferSucceeded) typeReport(buffer);
    queueReport(buffer);
  }
  if (repeatUsage != 0 && rdtsc() >= repeatAt) {
    typeUsage(repeatUsage);
    repeatAt = tscAfter(REPEAT_INTERVAL_NS);
  }
}
