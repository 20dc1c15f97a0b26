// Power off and reset through ACPI: what `exit` in the shell (init ending
// with status 0), `poweroff` and `reboot` do on a real PC, where QEMU's
// exit port does not exist. The recipe every small kernel uses: find the FADT
// through the RSDP that GRUB hands over (multiboot2 tag), read the PM1
// control ports from it, find the \_S5 package in the DSDT's AML for the
// sleep type values, then write SLP_TYP | SLP_EN.
//
// Tables are read through mapDeviceMemory: firmware keeps them in reserved
// or ACPI memory, which the direct map leaves out.
import { inw, outb, outw, rdtsc } from "../arch/x86_64/cpu";
import { bootInfo } from "../boot/multiboot2";
import { printf } from "../console/console";
import { mapDeviceMemory } from "../mm/kernel_map";
import { tscAfter } from "../time/clock";

const SLP_EN: u32 = 1 << 13;
const SLP_TYP_MASK: u32 = 7 << 10;
const SCI_EN: u32 = 1;
const TABLE_HEADER: u32 = 36;
const FOUR_GIB: u64 = 1 << 32;

let pm1aControl: u32 = 0; // I/O ports; 0 = none
let pm1bControl: u32 = 0;
let sleepTypeA: u32 = 0;
let sleepTypeB: u32 = 0;
let smiCommand: u32 = 0;
let acpiEnable: u32 = 0;
let resetPort: u32 = 0; // the FADT's reset register, when it is an I/O port; 0 = none
let resetValue: u32 = 0;

/** Maps a table's header, then the whole table; its linear address, or 0 if it cannot be read. */
function mapTable(physical: u64): u32 {
  if (physical == 0 || physical + TABLE_HEADER > FOUR_GIB || !mapDeviceMemory(physical, TABLE_HEADER)) return 0;
  const length = <u64>load<u32>(<u32>physical + 4);
  if (length < TABLE_HEADER || physical + length > FOUR_GIB || !mapDeviceMemory(physical, length)) return 0;
  return <u32>physical;
}

@inline function signatureIs(table: u32, signature: u32): bool {
  return load<u32>(table) == signature;
}

/** The table with `signature` ("FACP" as a little-endian u32) listed by the RSDT or XSDT; 0 if none. */
export function findTable(signature: u32): u32 {
  const rsdp = bootInfo.rsdp;
  if (rsdp == 0) return 0;
  // The XSDT (64-bit entries) when there is a usable one, else the RSDT.
  let root = load<u8>(rsdp + 15) >= 2 && bootInfo.rsdpLength >= 32 ? mapTable(load<u64>(rsdp + 24)) : 0;
  const extended = root != 0;
  if (!extended) root = mapTable(<u64>load<u32>(rsdp + 16));
  if (root == 0) return 0;
  const entrySize: u32 = extended ? 8 : 4;
  const count = (load<u32>(root + 4) - TABLE_HEADER) / entrySize;
  for (let i: u32 = 0; i < count; i++) {
    const at = root + TABLE_HEADER + i * entrySize;
    const table = mapTable(extended ? load<u64>(at) : <u64>load<u32>(at));
    if (table != 0 && signatureIs(table, signature)) return table;
  }
  return 0;
}

/** An AML integer constant at `at` (ZeroOp, OneOp, Byte/Word/DWordPrefix n), low bits only; -1 if something else. */
function amlInteger(at: u32): i32 {
  const op = load<u8>(at);
  if (op == 0x00) return 0;
  if (op == 0x01) return 1;
  if (op == 0x0a) return load<u8>(at + 1);
  if (op == 0x0b) return load<u16>(at + 1);
  if (op == 0x0c) return <i32>(load<u32>(at + 1) & 0xffff);
  return -1;
}

/** Length in bytes of the AML integer at `at` (for stepping to the next element). */
function amlIntegerSize(at: u32): u32 {
  const op = load<u8>(at);
  return op == 0x0a ? 2 : op == 0x0b ? 3 : op == 0x0c ? 5 : 1;
}

/**
 * The sleep types of Name(\_S5, Package() { SLP_TYPa, SLP_TYPb, ... }) in
 * the DSDT at `dsdt`: SLP_TYPa | SLP_TYPb << 8 (each 3 bits; b is 0 when
 * the package holds one value), or -1 if there is no such package.
 */
export function sleepTypesIn(dsdt: u32): i32 {
  const end = dsdt + load<u32>(dsdt + 4);
  // "_S5_", PackageOp, PkgLength, NumElements: 7 bytes before the first value.
  for (let at = dsdt + TABLE_HEADER; at + 7 < end; at++) {
    if (load<u32>(at) != 0x5f35535f) continue; // "_S5_"
    const nameOp = load<u8>(at - 1) == 0x08 || (load<u8>(at - 1) == 0x5c && load<u8>(at - 2) == 0x08);
    if (!nameOp || load<u8>(at + 4) != 0x12) continue; // NameOp ... PackageOp
    let element = at + 5;
    element += 1 + (<u32>load<u8>(element) >> 6); // PkgLength: the top two bits count the bytes that follow
    if (element + 2 > end) return -1;
    const count = load<u8>(element); // NumElements
    element += 1;
    if (count == 0 || element + amlIntegerSize(element) > end) return -1;
    const a = amlInteger(element);
    if (a < 0) return -1;
    element += amlIntegerSize(element);
    const b = count >= 2 && element < end && element + amlIntegerSize(element) <= end ? amlInteger(element) : 0;
    return (a & 7) | ((b < 0 ? 0 : b & 7) << 8);
  }
  return -1;
}

/** Reads what powering off needs; says at boot whether the machine can be powered off. */
export function initAcpi(): void {
  const fadt = findTable(0x50434146); // "FACP"
  if (fadt == 0) {
    printf("acpi: no FADT; at the end the machine halts instead of powering off\n");
    return;
  }
  const length = load<u32>(fadt + 4);
  // Reset register (ACPI 2+): supported (flags bit 10), and in I/O space (address space 1).
  if (length >= 129 && (load<u32>(fadt + 112) & (1 << 10)) != 0 && load<u8>(fadt + 116) == 1) {
    resetPort = <u32>load<u64>(fadt + 120);
    resetValue = load<u8>(fadt + 128);
  }
  const dsdt = mapTable(length >= 148 && load<u64>(fadt + 140) != 0 ? load<u64>(fadt + 140) : <u64>load<u32>(fadt + 40));
  const types = dsdt == 0 ? -1 : sleepTypesIn(dsdt);
  if (types < 0) {
    printf("acpi: no \\_S5 sleep type in the DSDT; at the end the machine halts instead of powering off\n");
    return;
  }
  sleepTypeA = <u32>types & 7;
  sleepTypeB = <u32>types >> 8;
  smiCommand = load<u32>(fadt + 48);
  acpiEnable = load<u8>(fadt + 52);
  pm1aControl = load<u32>(fadt + 64);
  pm1bControl = load<u32>(fadt + 68);
  // ACPI 2+ may give the ports only as generic addresses (I/O space is 1).
  if (pm1aControl == 0 && length >= 184 && load<u8>(fadt + 172) == 1) pm1aControl = <u32>load<u64>(fadt + 176);
  if (pm1bControl == 0 && length >= 196 && load<u8>(fadt + 184) == 1) pm1bControl = <u32>load<u64>(fadt + 188);
  printf("acpi: power off through port %x (S5 sleep type %d)\n", pm1aControl, sleepTypeA);
}

function enterSleepState(port: u32, type: u32): void {
  const value = (inw(port) & ~(SLP_TYP_MASK | SLP_EN)) | (type << 10);
  outw(port, value);
  outw(port, value | SLP_EN);
}

/** Powers the machine off if ACPI allows; returns only if it did not work. */
export function acpiPowerOff(): void {
  if (pm1aControl == 0) return;
  printf("kernel: powering off\n");
  if ((inw(pm1aControl) & SCI_EN) == 0 && smiCommand != 0 && acpiEnable != 0) {
    outb(smiCommand, acpiEnable); // hand ACPI from the firmware's SMM code to the OS
    const deadline = tscAfter(1000000000);
    while ((inw(pm1aControl) & SCI_EN) == 0 && rdtsc() < deadline) {}
  }
  // The sleep type first, then SLP_EN, keeping the register's other bits (SCI_EN among them), as ACPICA does.
  enterSleepState(pm1aControl, sleepTypeA);
  if (pm1bControl != 0) enterSleepState(pm1bControl, sleepTypeB);
  const patience = tscAfter(1000000000); // the chipset takes a moment to cut the power
  while (rdtsc() < patience) {}
  printf("kernel: the machine did not power off\n");
}

/** Resets the machine through the FADT's reset register, if it has one; returns only if that did not work. */
export function acpiReset(): void {
  if (resetPort == 0) return;
  outb(resetPort, resetValue);
  const patience = tscAfter(1000000000);
  while (rdtsc() < patience) {}
}
