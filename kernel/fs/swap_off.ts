// swapoff's work once the path is walked: the area whose file's bytes the
// inode's are (whatever path or node names it) is closed to new pages,
// emptied by mm, taken out of the table, and its file (and a partition's
// hold on its device) let go.
import { MemoryObject, OBJECT_SWAP_FILE } from "../mm/memory_object";
import { SwapArea, freeSwapArea, removeSwapArea, swapAreaAt } from "../mm/swap_area";
import { emptySwapArea } from "../mm/swap_off";
import { releaseBlockDevice } from "../block/block_device";
import { blockDeviceOf } from "./block_file";
import { File, releaseFile } from "./file";
import { Inode, isDirectoryInode } from "./inode";
import { swapAreaHolding, swapObjectOf } from "./swap_file";

const EISDIR: i64 = 21;
const EINVAL: i64 = 22;

/**
 * swapoff of `inode` (held by the caller): 0, or -errno: EISDIR as an open
 * for writing gives, EINVAL when it is no swap area, ENOMEM when its pages
 * cannot all come back into memory (the area then stays in use).
 */
export function swapOffInode(inode: Inode): i64 {
  if (isDirectoryInode(inode)) return -EISDIR;
  const object = swapObjectOf(inode);
  const index = object == null ? -1 : swapAreaHolding(object);
  if (index < 0) return -EINVAL;
  const status = emptySwapArea(<u32>index); // closed to new pages meanwhile, reopened if it fails
  if (status < 0) return status;
  const area = changetype<SwapArea>(swapAreaAt(<u32>index));
  removeSwapArea(<u32>index);
  changetype<MemoryObject>(object).flags &= ~OBJECT_SWAP_FILE;
  const device = blockDeviceOf(inode);
  if (device != null) releaseBlockDevice(device);
  releaseFile(changetype<File>(area.owner));
  freeSwapArea(area);
  return 0;
}
