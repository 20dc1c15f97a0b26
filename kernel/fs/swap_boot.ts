// swap=PATH on the kernel command line: swapon of that partition or file
// (/dev/vdb, /swapfile) once the root is mounted, as a boot script's
// `swapon` would, for a system whose init does not run one.
import { argumentValueAddress, argumentValueLength, hasArgument } from "../boot/cmdline";
import { printBytes, printf } from "../console/console";
import { Inode, releaseInode } from "./inode";
import { fileSystemRoot } from "./mount";
import { resolvePath } from "./path";
import { swapOnInode } from "./swap_on";

/** Puts the swap= area in use, if the command line names one; says why when it cannot. */
export function swapOnAtBoot(): void {
  if (!hasArgument("swap")) return;
  const path = <u32>argumentValueAddress("swap");
  const length = <u32>max(argumentValueLength("swap"), 0);
  const found = length == 0 ? -2 : resolvePath(fileSystemRoot(), path, length, true); // ENOENT for an empty one
  let status = found;
  if (found > 0) {
    status = swapOnInode(changetype<Inode>(<u32>found), 0);
    releaseInode(changetype<Inode>(<u32>found));
  }
  if (status == 0) return;
  printf("swap: cannot use ");
  printBytes(path, length);
  printf(": error %d\n", -status);
}
