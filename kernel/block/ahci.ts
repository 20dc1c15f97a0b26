// AHCI host bus adapters (SATA controllers, PCI class 01:06:01): every
// one found is taken from the firmware, and each port with an ATA disk
// becomes a block device, sda, sdb, ... in the order found, as Linux's sd
// names them. The ports (ahci_port.ts) run the requests; this file finds
// the controllers and routes their interrupt to the ports that raised it.
import { mmioRead32, mmioWrite32, rdtsc } from "../arch/x86_64/cpu";
import { printBytes, printf } from "../console/console";
import { forEachPciFunction, pciEnableMemoryAndDma, pciMemoryBar32, pciRead32 } from "../drivers/pci";
import { PciInterrupt, requestPciInterrupt } from "../drivers/pci_interrupt";
import { str } from "../lib/format";
import { mapDeviceMemory } from "../mm/kernel_map";
import { kfree, kmalloc } from "../mm/slab";
import { tscAfter } from "../time/clock";
import {
  BlockDevice, PollDevice, SCSI_DISK_MAJOR, StartRequest, deviceNameAddress, deviceNameLength, nameDisk, newBlockDevice,
  registerBlockDevice,
} from "./block_device";
import {
  AhciPort, enableInterrupts, hasAtaDisk, identify, printModel, quietPort, releasePort, servicePort, startPort,
  startRequest, writeCacheEnabled,
} from "./ahci_port";

const AHCI_CLASS: u32 = 0x010601; // mass storage, SATA, AHCI 1.0 programming interface

// Generic host control registers, from ABAR (BAR 5).
const CAP: u32 = 0x00;
const GHC: u32 = 0x04;
const IS: u32 = 0x08;
const PI: u32 = 0x0c;
const CAP2: u32 = 0x24;
const BOHC: u32 = 0x28;
const PORT_REGISTERS: u32 = 0x100;
const PORT_STRIDE: u32 = 0x80;
/** The generic registers and 32 ports' (AHCI 3): all an HBA may have. */
const ABAR_BYTES: u32 = PORT_REGISTERS + 32 * PORT_STRIDE;

const CAP_CLO: u32 = 1 << 24; // PxCMD.CLO is there
const GHC_INTERRUPTS: u32 = 1 << 1;
const GHC_AHCI: u32 = 1 << 31;
const CAP2_HANDOFF: u32 = 1 << 0;
const BOHC_BIOS_OWNED: u32 = 1 << 0;
const BOHC_OS_OWNED: u32 = 1 << 1;
const BOHC_BIOS_BUSY: u32 = 1 << 4;

const MAX_DISKS: u32 = 26; // sda..sdz

/**
 * One HBA, its interrupt handler's record.
 *
 *   0 registers(u64) (ABAR, physical)  8 location (its PCI function)
 *  12 ports (32 words: the AhciPort on each port with a disk, 0 elsewhere)
 */
@unmanaged class AhciHost {
  registers: u64;
  location: u32;
}
const PORTS: u32 = 12;
const HOST_SIZE: u32 = PORTS + 32 * 4;

let diskCount: u32 = 0;

@inline function hostPortSlot(host: AhciHost, number: u32): u32 {
  return changetype<u32>(host) + PORTS + number * 4;
}

/** The line's handler: services each port the HBA says interrupted, then clears those bits (after the ports' own). */
function ahciInterrupt(data: u32): void {
  const host = changetype<AhciHost>(data);
  const pending = mmioRead32(host.registers + IS);
  if (pending == 0) return; // the line is shared, and this interrupt was another device's
  for (let bits = pending; bits != 0; bits &= bits - 1) {
    const port = load<u32>(hostPortSlot(host, <u32>ctz(bits)));
    if (port != 0) servicePort(changetype<AhciPort>(port));
  }
  mmioWrite32(host.registers + IS, pending);
}

/** The block layer's PollDevice: at boot, interrupts are off and the port is looked at directly. */
function pollDisk(device: BlockDevice): void {
  servicePort(changetype<AhciPort>(device.driver));
}

/**
 * The BIOS/OS handoff (AHCI 10.6.3): when the firmware owns the HBA, ask
 * for it, wait up to 25 ms for the firmware to let go, and then up to 2 s
 * more while it says it is still busy finishing commands.
 */
function takeFromFirmware(registers: u64): void {
  if ((mmioRead32(registers + CAP2) & CAP2_HANDOFF) == 0) return;
  if ((mmioRead32(registers + BOHC) & BOHC_BIOS_OWNED) == 0) return;
  mmioWrite32(registers + BOHC, mmioRead32(registers + BOHC) | BOHC_OS_OWNED);
  let deadline = tscAfter(25000000);
  while ((mmioRead32(registers + BOHC) & BOHC_BIOS_OWNED) != 0 && rdtsc() < deadline) {}
  deadline = tscAfter(2000000000);
  while ((mmioRead32(registers + BOHC) & BOHC_BIOS_BUSY) != 0 && rdtsc() < deadline) {}
}

/** Prints a PCI function's location as Linux does, bus:device.function. */
function printLocation(location: u32): void {
  printf("%x:%x.%d", location >> 16, (location >> 11) & 0x1f, (location >> 8) & 7);
}

function printPort(host: AhciHost, number: u32): void {
  printf("ahci: ");
  printLocation(host.location);
  printf(" port %d", number);
}

/** Makes the disk on `port` of `host` block device sd<letter>; false when out of memory or names. */
function addDisk(host: AhciHost, port: AhciPort, sectors: u64): bool {
  if (diskCount == MAX_DISKS) return false;
  const device = newBlockDevice();
  if (device == null) return false;
  device.start = changetype<u32>(<StartRequest>startRequest);
  device.poll = changetype<u32>(<PollDevice>pollDisk);
  device.driver = changetype<u32>(port);
  device.sectors = sectors;
  device.major = SCSI_DISK_MAJOR;
  device.minor = 16 * diskCount; // 15 partitions per disk, as Linux numbers sd
  device.volatileCache = writeCacheEnabled(port) ? 1 : 0;
  nameDisk(device, "sd", diskCount);
  if (!registerBlockDevice(device)) {
    kfree(changetype<u32>(device));
    return false;
  }
  port.device = device;
  diskCount++;
  printf("ahci: ");
  printBytes(deviceNameAddress(device), deviceNameLength(device));
  printf(" on ");
  printLocation(host.location);
  printf(" port %d: ", port.number);
  printModel(port);
  printf(", write cache %s\n", str(device.volatileCache != 0 ? "on" : "off"));
  return true;
}

/** Brings up the disk on port `number` of the HBA, if there is one; false when the port is left unused. */
function probePort(host: AhciHost, number: u32, capabilities: u32): bool {
  const registers = host.registers + PORT_REGISTERS + number * PORT_STRIDE;
  if (!hasAtaDisk(registers)) return false;
  const port = startPort(registers, number, ((capabilities >> 8) & 0x1f) + 1, (capabilities & CAP_CLO) != 0);
  if (port == null) {
    printPort(host, number);
    printf(" does not start; not used\n");
    return false;
  }
  const sectors = identify(port);
  if (sectors == 0) {
    printPort(host, number);
    printf(": IDENTIFY DEVICE failed; not used\n");
    releasePort(port);
    return false;
  }
  if (!addDisk(host, port, sectors)) {
    releasePort(port);
    return false;
  }
  store<u32>(hostPortSlot(host, number), changetype<u32>(port));
  enableInterrupts(port);
  return true;
}

/** forEachPciFunction's visitor: takes and starts the function if it is an AHCI HBA. */
function probeFunction(location: u32): void {
  if (pciRead32(location, 8) >> 8 != AHCI_CLASS) return;
  const registers = <u64>pciMemoryBar32(location, 5);
  if (registers == 0) {
    printf("ahci: controller at ");
    printLocation(location);
    printf(" has no 32-bit ABAR; not used\n");
    return;
  }
  if (!mapDeviceMemory(registers, ABAR_BYTES)) return;
  const record = kmalloc(HOST_SIZE);
  if (record == 0) return;
  memory.fill(record, 0, HOST_SIZE);
  const host = changetype<AhciHost>(record);
  host.registers = registers;
  host.location = location;
  // The handler goes on first: a disk registered without it would take requests and never complete them.
  if (requestPciInterrupt(location, ahciInterrupt, record, "ahci") == PciInterrupt.None) {
    printf("ahci: controller at ");
    printLocation(location);
    printf(" has no interrupt (no message, no free legacy line); not used\n");
    kfree(record);
    return;
  }
  pciEnableMemoryAndDma(location);
  takeFromFirmware(registers);
  mmioWrite32(registers + GHC, mmioRead32(registers + GHC) | GHC_AHCI);
  const capabilities = mmioRead32(registers + CAP);
  for (let bits = mmioRead32(registers + PI); bits != 0; bits &= bits - 1) {
    const number = <u32>ctz(bits);
    if (!probePort(host, number, capabilities)) quietPort(registers + PORT_REGISTERS + number * PORT_STRIDE);
  }
  mmioWrite32(registers + IS, 0xffffffff);
  mmioWrite32(registers + GHC, mmioRead32(registers + GHC) | GHC_INTERRUPTS);
}

/** Finds every AHCI controller and registers its disks; returns how many disks there are now. */
export function probeAhci(): u32 {
  forEachPciFunction(probeFunction);
  return diskCount;
}
