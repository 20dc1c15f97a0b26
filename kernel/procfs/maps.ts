// /proc/self/maps: the process's regions in Linux's format, one per line:
//   start-end perms offset dev inode name
// perms are r, w, x and p (private) or s (shared); the name is the file's
// path, or [heap], [stack], [vvar], [vdso], or Linux's "/dev/zero
// (deleted)" for shared anonymous memory.
import { formatInto, str } from "../lib/format";
import { AddressSpace, regionsOf } from "../mm/address_space";
import {
  PROT_EXEC, PROT_READ, PROT_WRITE, REGION_FILE, REGION_HEAP, REGION_SHARED, REGION_STACK, Region, regionAt,
} from "../mm/region";
import { isVdsoObject } from "../mm/vdso";
import { Inode } from "../fs/inode";
import { pathOfInode } from "../fs/names";

const LINE_MAX: u32 = 160; // a line never needs more (names are bounded by what is left)

/** Writes the four permission letters of `region` at `at`. */
function writePermissions(region: Region, at: u32): void {
  store<u8>(at, (region.protection & PROT_READ) != 0 ? 0x72 : 0x2d); // r
  store<u8>(at + 1, (region.protection & PROT_WRITE) != 0 ? 0x77 : 0x2d); // w
  store<u8>(at + 2, (region.protection & PROT_EXEC) != 0 ? 0x78 : 0x2d); // x
  store<u8>(at + 3, (region.flags & REGION_SHARED) != 0 ? 0x73 : 0x70); // s or p
}

/** Writes the maps of `space` into `into` (at most `capacity` bytes, whole lines only); returns the length. */
export function formatMaps(space: AddressSpace, into: u32, capacity: u32): u32 {
  const regions = regionsOf(space);
  let n: u32 = 0;
  for (let i: u32 = 0; i < regions.count && n + LINE_MAX <= capacity; i++) {
    const region = regionAt(regions, i);
    const file = (region.flags & REGION_FILE) != 0;
    const object = region.object;
    const vdso = isVdsoObject(object);
    const owner = object != null && !vdso && object.owner != 0 ? changetype<Inode>(object.owner) : null;
    n += formatInto(into + n, capacity - n, "%08x-%08x ", region.start, region.end);
    writePermissions(region, into + n);
    n += 4;
    n += formatInto(into + n, capacity - n, " %08x 00:%02x %d", file ? region.fileOffset : 0,
      owner != null ? owner.device : 0, owner != null ? owner.ino : 0);
    let name = "";
    if (vdso) name = region.fileOffset == 0 ? "[vvar]" : "[vdso]";
    else if (object != null && owner == null) name = "/dev/zero (deleted)";
    else if ((region.flags & REGION_HEAP) != 0) name = "[heap]";
    else if ((region.flags & REGION_STACK) != 0) name = "[stack]";
    if (name.length != 0) {
      n += formatInto(into + n, capacity - n, " %s", str(name));
    } else if (owner != null) {
      store<u8>(into + n++, 0x20);
      n += pathOfInode(owner, into + n, capacity - n - 1); // room for the newline
    }
    store<u8>(into + n++, 0x0a);
  }
  return n;
}
