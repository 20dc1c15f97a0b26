// swapon and swapoff: the path walked as Linux's file_open_name walks it
// (symbolic links followed), then fs/swap_on.ts and fs/swap_off.ts do the
// rest. There is one user, root, so CAP_SYS_ADMIN is never missing.
import { Inode, releaseInode } from "../fs/inode";
import { swapOffInode } from "../fs/swap_off";
import { swapOnInode, swapOnRefused } from "../fs/swap_on";
import { Process } from "../proc/process";
import { AT_FDCWD, lookupAt } from "./paths";

/** swapon(path, flags): a swap partition or file put in use; flags are SWAP_FLAG_PREFER with a priority, and discards. */
export function sysSwapon(process: Process, path: u64, flags: u64): i64 {
  const refused = swapOnRefused(flags);
  if (refused != 0) return refused;
  const found = lookupAt(process, AT_FDCWD, path, true, false);
  if (found < 0) return found;
  const inode = changetype<Inode>(<u32>found);
  const result = swapOnInode(inode, <u32>flags);
  releaseInode(inode);
  return result;
}

/** swapoff(path): the swap area on that file or device taken out of use, its pages brought back in first. */
export function sysSwapoff(process: Process, path: u64): i64 {
  const found = lookupAt(process, AT_FDCWD, path, true, false);
  if (found < 0) return found;
  const inode = changetype<Inode>(<u32>found);
  const result = swapOffInode(inode);
  releaseInode(inode);
  return result;
}
