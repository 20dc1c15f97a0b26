// QEMU arguments that attach disk images, for run-program, make run and the
// tests: each spec is IMAGE (virtio-blk, Linux's /dev/vda, /dev/vdb, ...) or
// IMAGE,ahci (a SATA disk: /dev/sda, /dev/sdb, ...; six to a controller)
// or IMAGE,nvme (an NVMe controller of its own, one namespace: /dev/nvme0n1, ...;
// IMAGE,nvme4k for one of 4 KiB logical blocks),
// attached in the order given, raw, writable, with writes going straight to
// the image file so that a killed machine leaves what it had written.
// A `,writeback` suffix (IMAGE,ahci,writeback, IMAGE,nvme,writeback) caches writes on the host
// instead, so that the disk reports a volatile write cache and the guest
// must flush it. Run as a program (`node disk-arguments.mjs SPEC...`), it
// prints them, for the Makefile's `make run DISK=...`.
import { fileURLToPath } from "node:url";

export function diskArguments(specs) {
  const args = [];
  let sata = 0;
  let nvme = 0;
  specs.forEach((spec, i) => {
    const [image, kind = "virtio", cache = "writethrough", ...rest] = spec.split(",");
    if (rest.length > 0 || !["virtio", "ahci", "nvme", "nvme4k"].includes(kind) || (cache !== "writethrough" && cache !== "writeback")) {
      throw new Error(`disk ${spec}: expected IMAGE, IMAGE,ahci, IMAGE,nvme or any with ,writeback`);
    }
    const id = `disk${i}`;
    args.push("-drive", `file=${image},format=raw,if=none,id=${id},cache=${cache}`);
    if (kind === "virtio") {
      args.push("-device", `virtio-blk-pci,drive=${id}`);
    } else if (kind.startsWith("nvme")) {
      const blocks = kind === "nvme4k" ? ",logical_block_size=4096,physical_block_size=4096" : "";
      args.push("-device", `nvme,serial=nvme${nvme++},drive=${id}${blocks}`);
    } else {
      const controller = `ahci${Math.floor(sata / 6)}`; // QEMU's AHCI controller has 6 ports
      if (sata % 6 === 0) args.push("-device", `ahci,id=${controller}`);
      args.push("-device", `ide-hd,drive=${id},bus=${controller}.${sata++ % 6}`);
    }
  });
  return args;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(diskArguments(process.argv.slice(2)).join(" "));
