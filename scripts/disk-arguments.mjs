// QEMU arguments that attach disk images, for run-program, make run and the
// tests: each spec is IMAGE (virtio-blk, Linux's /dev/vda, /dev/vdb, ...) or
// IMAGE,ahci (a SATA disk on one AHCI controller: /dev/sda, /dev/sdb, ...),
// attached in the order given, raw, writable, with writes going straight to
// the image file so that a killed machine leaves what it had written.
// A `,writeback` suffix (IMAGE,ahci,writeback) caches writes on the host
// instead, so that the disk reports a volatile write cache and the guest
// must flush it.
export function diskArguments(specs) {
  const args = [];
  let sata = 0;
  specs.forEach((spec, i) => {
    const [image, kind = "virtio", cache = "writethrough", ...rest] = spec.split(",");
    if (rest.length > 0 || (kind !== "virtio" && kind !== "ahci") || (cache !== "writethrough" && cache !== "writeback")) {
      throw new Error(`disk ${spec}: expected IMAGE, IMAGE,ahci or either with ,writeback`);
    }
    const id = `disk${i}`;
    args.push("-drive", `file=${image},format=raw,if=none,id=${id},cache=${cache}`);
    if (kind === "virtio") {
      args.push("-device", `virtio-blk-pci,drive=${id}`);
    } else {
      if (sata === 0) args.push("-device", "ahci,id=ahci0");
      if (sata === 6) throw new Error("at most 6 AHCI disks (one controller's ports)");
      args.push("-device", `ide-hd,drive=${id},bus=ahci0.${sata++}`);
    }
  });
  return args;
}
