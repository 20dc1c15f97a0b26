// /proc/swaps: each swap area in use, in Linux's format (mm/swapfile.c's
// swap_show): the file's path with spaces, tabs, newlines and backslashes
// written as octal escapes and padded to 40 columns, "partition" for a
// block device or "file", the size and the part in use in KiB (neither the
// header nor bad pages counted), and the priority.
import { File } from "../fs/file";
import { Inode, S_IFBLK, fileType } from "../fs/inode";
import { PATH_MAX } from "../fs/path";
import { formatInto, str } from "../lib/format";
import { PAGE_SIZE } from "../mm/frame";
import { kfree, kmalloc } from "../mm/slab";
import { MAX_SWAP_AREAS, SwapArea, swapAreaAt } from "../mm/swap_area";
import { writeInodePath } from "./links";

const KIB_PER_PAGE: u64 = PAGE_SIZE / 1024;
const ESCAPED_BYTES: u32 = 4; // a backslash and three octal digits

/** Room for the text: a line a path long for each area in use. */
export function swapsCapacity(): u32 {
  let capacity: u32 = 128;
  for (let i: u32 = 0; i < MAX_SWAP_AREAS; i++) if (swapAreaAt(i) != null) capacity += PATH_MAX + 64;
  return capacity;
}

@inline function escaped(c: u32): bool {
  return c == 0x20 || c == 0x09 || c == 0x0a || c == 0x5c;
}

/** The `length` bytes at `from`, escaped as Linux's mangle_path does, at `into` (as far as `capacity` goes): the bytes written. */
function mangledPath(from: u32, length: u32, into: u32, capacity: u32): u32 {
  let n: u32 = 0;
  for (let i: u32 = 0; i < length; i++) {
    const c = <u32>load<u8>(from + i);
    if (!escaped(c)) {
      if (n + 1 > capacity) break;
      store<u8>(into + n++, <u8>c);
      continue;
    }
    if (n + ESCAPED_BYTES > capacity) break;
    store<u8>(into + n, 0x5c);
    store<u8>(into + n + 1, <u8>(0x30 + (c >> 6)));
    store<u8>(into + n + 2, <u8>(0x30 + ((c >> 3) & 7)));
    store<u8>(into + n + 3, <u8>(0x30 + (c & 7)));
    n += ESCAPED_BYTES;
  }
  return n;
}

/** One area's line; `path` is PATH_MAX bytes of room for its path before escaping. */
function areaLine(area: SwapArea, path: u32, into: u32, capacity: u32): u32 {
  const inode = changetype<Inode>(changetype<File>(area.owner).inode);
  const length = writeInodePath(inode, path);
  let n = mangledPath(path, length, into, capacity);
  const size = <u64>area.usable * KIB_PER_PAGE;
  const used = <u64>area.inUse * KIB_PER_PAGE;
  const spaces: u32 = n < 40 ? 40 - n : 1;
  for (let k: u32 = 0; k < spaces && n < capacity; k++) store<u8>(into + n++, 0x20);
  n += formatInto(into + n, capacity - n, "%s\t%d\t%s%d\t%s%i\n", str(fileType(inode) == S_IFBLK ? "partition" : "file\t"),
    size, str(size < 10000000 ? "\t" : ""), used, str(used < 10000000 ? "\t" : ""), <u64><i64>area.priority);
  return n;
}

export function swaps(into: u32, capacity: u32): u32 {
  let n = formatInto(into, capacity, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
  const path = kmalloc(PATH_MAX); // not a static buffer: that would cost every boot a page of static data
  if (path == 0) return n;
  for (let i: u32 = 0; i < MAX_SWAP_AREAS; i++) {
    const area = swapAreaAt(i);
    if (area != null && n + 64 < capacity) n += areaLine(area, path, into + n, capacity - n);
  }
  kfree(path);
  return n;
}
