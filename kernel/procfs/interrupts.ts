// /proc/interrupts: a line per interrupt line in use, with its count, the
// controller that delivers it and how, and its driver's name, in Linux's
// layout (kernel/irq/proc.c); then the spurious count. The controller
// column says how each device is served: XT-PIC (the 8259s), IO-APIC
// (GSI and trigger), PCI-MSI or PCI-MSIX (the function and message number);
// the drivers sharing a line are listed together.
import { gsiIsLevel } from "../arch/x86_64/io_apic";
import {
  IRQ_LINES, LineKind, apicRoutingInUse, lineCount, lineDevice, lineKind, lineName, lineSource, spuriousInterrupts,
} from "../arch/x86_64/irq";
import { formatInto, str } from "../lib/format";

function controller(line: u32, into: u32, capacity: u32): u32 {
  const kind = lineKind(line);
  if (kind == LineKind.Msi || kind == LineKind.MsiX) {
    const device = lineDevice(line);
    return formatInto(into, capacity, "  %s-0000:%02x:%02x.%d %4d-edge     ", str(kind == LineKind.Msi ? "PCI-MSI" : "PCI-MSIX"),
      device >> 16, (device >> 11) & 0x1f, (device >> 8) & 7, lineSource(line));
  }
  if (!apicRoutingInUse()) return formatInto(into, capacity, "    XT-PIC     ");
  const gsi = lineSource(line);
  return formatInto(into, capacity, "   IO-APIC %4d-%-9s ", gsi, str(gsiIsLevel(gsi) ? "fasteoi" : "edge"));
}

export function interrupts(into: u32, capacity: u32): u32 {
  let n = formatInto(into, capacity, "           CPU0\n");
  for (let line: u32 = 0; line < IRQ_LINES && n + 96 < capacity; line++) {
    if (lineKind(line) == LineKind.Unused) continue;
    n += formatInto(into + n, capacity - n, "%3d: %10d ", line, lineCount(line));
    n += controller(line, into + n, capacity - n);
    for (let i: u32 = 0; ; i++) {
      const name = lineName(line, i);
      if (name == null) break;
      n += formatInto(into + n, capacity - n, i == 0 ? "%s" : ", %s", str(name));
    }
    store<u8>(into + n++, 0x0a);
  }
  if (n + 48 < capacity) n += formatInto(into + n, capacity - n, "SPU: %10d   Spurious interrupts\n", spuriousInterrupts());
  return n;
}
