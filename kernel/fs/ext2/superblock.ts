// The ext2 superblock: the 1 KiB record at byte 1024 of the device that
// says how the file system is laid out (block size, groups, inode size) and
// which features it uses. Mounting reads and checks it; the mount record
// (fs.ts) keeps the page holding it for as long as the file system is
// mounted, so its free counts and state are changed in place.
import { printf } from "../../console/console";

export const EXT2_MAGIC: u32 = 0xef53;
export const SUPERBLOCK_OFFSET: u32 = 1024;
export const SUPERBLOCK_SIZE: u32 = 1024;

/** s_state: cleanly unmounted (cleared while mounted read-write, as Linux does), errors were seen. */
export const STATE_VALID: u16 = 1;

export const COMPAT_HAS_JOURNAL: u32 = 0x4;
export const INCOMPAT_FILETYPE: u32 = 0x2;
export const INCOMPAT_RECOVER: u32 = 0x4;
export const INCOMPAT_META_BG: u32 = 0x10;
/** What Linux's ext2 implements of the incompatible features; any other refuses the mount. */
const INCOMPAT_SUPPORTED: u32 = INCOMPAT_FILETYPE | INCOMPAT_META_BG;
export const RO_COMPAT_SPARSE_SUPER: u32 = 0x1;
export const RO_COMPAT_LARGE_FILE: u32 = 0x2;
/** Hashed directories read as linear ones (ext2 ignores the index and clears it on change). */
const RO_COMPAT_BTREE_DIR: u32 = 0x4;
export const RO_COMPAT_SUPPORTED: u32 = RO_COMPAT_SPARSE_SUPER | RO_COMPAT_LARGE_FILE | RO_COMPAT_BTREE_DIR;

const EINVAL: i32 = 22;

/**
 * The superblock's fields up to the feature words, as on disk (little-endian):
 *
 *   0 inodesCount  4 blocksCount  8 reservedBlocks  12 freeBlocks  16 freeInodes  20 firstDataBlock
 *  24 logBlockSize  28 logFragSize  32 blocksPerGroup  36 fragsPerGroup  40 inodesPerGroup
 *  44 mtime  48 wtime  52 mountCount(u16)  54 maxMountCount(i16)  56 magic(u16)  58 state(u16)
 *  60 errors(u16)  62 minorRevision(u16)  64 lastCheck  68 checkInterval  72 creatorOs  76 revision
 *  80 defaultUid(u16)  82 defaultGid(u16)  84 firstIno (revision 1)  88 inodeSize(u16)  90 blockGroup(u16)
 *  92 compat  96 incompat  100 roCompat
 * and further on: 206 reservedGdtBlocks(u16), 260 firstMetaBg.
 */
@unmanaged export class DiskSuperblock {
  inodesCount: u32;
  blocksCount: u32;
  reservedBlocks: u32;
  freeBlocks: u32;
  freeInodes: u32;
  firstDataBlock: u32;
  logBlockSize: u32;
  logFragSize: u32;
  blocksPerGroup: u32;
  fragsPerGroup: u32;
  inodesPerGroup: u32;
  mtime: u32;
  wtime: u32;
  mountCount: u16;
  maxMountCount: i16;
  magic: u16;
  state: u16;
  errors: u16;
  minorRevision: u16;
  lastCheck: u32;
  checkInterval: u32;
  creatorOs: u32;
  revision: u32;
  defaultUid: u16;
  defaultGid: u16;
  firstIno: u32;
  inodeSize: u16;
  blockGroup: u16;
  compat: u32;
  incompat: u32;
  roCompat: u32;
}

@inline export function firstMetaBg(sb: DiskSuperblock): u32 {
  return load<u32>(changetype<u32>(sb) + 260);
}

/** Logs why a mount is refused, and gives the errno. */
export function refuse(reason: string, value: u64): i32 {
  printf("ext2: cannot mount: %s (%x)\n", changetype<usize>(reason), value);
  return -EINVAL;
}

/** The inode size of a revision-0 file system, and of the first ino there. */
const GOOD_OLD_INODE_SIZE: u32 = 128;
const GOOD_OLD_FIRST_INO: u32 = 11;

export function inodeSizeOf(sb: DiskSuperblock): u32 {
  return sb.revision == 0 ? GOOD_OLD_INODE_SIZE : sb.inodeSize;
}

export function firstInoOf(sb: DiskSuperblock): u32 {
  return sb.revision == 0 ? GOOD_OLD_FIRST_INO : sb.firstIno;
}

/**
 * Checks a superblock for a device of `deviceKib` KiB: 0, or
 * -EINVAL (not ext2, corrupt, a feature we lack, or a read-write mount of
 * one with a read-only-compatible feature we lack, as Linux refuses it),
 * with a log line naming the reason.
 */
export function checkSuperblock(sb: DiskSuperblock, deviceKib: u64, readOnly: bool): i32 {
  if (sb.magic != <u16>EXT2_MAGIC) return refuse("no ext2 magic", sb.magic);
  if (sb.revision > 1) return refuse("unknown revision", sb.revision);
  if (sb.logBlockSize > 2) return refuse("block size past 4 KiB", sb.logBlockSize);
  if (sb.logFragSize != sb.logBlockSize) return refuse("fragments differ from blocks", sb.logFragSize);
  const blockSize: u32 = 1024 << sb.logBlockSize;
  const inodeSize = inodeSizeOf(sb);
  if (inodeSize < GOOD_OLD_INODE_SIZE || inodeSize > blockSize || (inodeSize & (inodeSize - 1)) != 0) {
    return refuse("bad inode size", inodeSize);
  }
  if (sb.blocksPerGroup == 0 || sb.blocksPerGroup > blockSize * 8) return refuse("bad blocks per group", sb.blocksPerGroup);
  if (sb.inodesPerGroup == 0 || sb.inodesPerGroup > blockSize * 8) return refuse("bad inodes per group", sb.inodesPerGroup);
  if (sb.firstDataBlock != (blockSize == 1024 ? 1 : 0)) return refuse("bad first data block", sb.firstDataBlock);
  if (sb.blocksCount <= sb.firstDataBlock) return refuse("no blocks", sb.blocksCount);
  if (<u64>sb.blocksCount * (blockSize / 1024) > deviceKib) return refuse("file system past the device's end", sb.blocksCount);
  const groups = (sb.blocksCount - sb.firstDataBlock + sb.blocksPerGroup - 1) / sb.blocksPerGroup;
  if (<u64>groups * sb.inodesPerGroup != <u64>sb.inodesCount) return refuse("inode count does not match the groups", sb.inodesCount);
  if (firstInoOf(sb) < 11 || firstInoOf(sb) > sb.inodesCount) return refuse("bad first inode", firstInoOf(sb));
  if ((sb.incompat & INCOMPAT_RECOVER) != 0) return refuse("the journal needs recovery", sb.incompat);
  const unsupported = sb.incompat & ~INCOMPAT_SUPPORTED;
  if (unsupported != 0) return refuse("unsupported incompatible features", unsupported);
  const roUnsupported = sb.roCompat & ~RO_COMPAT_SUPPORTED;
  if (roUnsupported != 0 && !readOnly) return refuse("unsupported read-only features: mount read-only", roUnsupported);
  if ((sb.incompat & INCOMPAT_META_BG) != 0 && firstMetaBg(sb) > groups) return refuse("bad first meta group", firstMetaBg(sb));
  return 0;
}
