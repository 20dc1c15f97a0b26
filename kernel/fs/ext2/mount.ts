// Mounting and unmounting ext2: the superblock is read and checked, the
// geometry kept in a mount record, the groups checked, the root inode
// read. A read-write mount marks the file system in use on disk (s_state
// without VALID, s_mnt_count + 1, s_mtime), as Linux does, so that a
// crash leaves it for e2fsck; umount writes everything back and marks it
// clean again.
import { BlockDevice, claimBlockDevice, deviceBytes, releaseBlockDevice } from "../../block/block_device";
import { getBlock, putBlock } from "../../block/buffer_cache";
import { printf } from "../../console/console";
import { dropCleanRange } from "../../mm/page_cache";
import { kfree, kmalloc } from "../../mm/slab";
import { writeBackObject } from "../../mm/writeback";
import { Inode, dropLink, fileTimeNow, isDirectoryInode, releaseInode } from "../inode";
import { Mount, mountAt } from "../mount";
import { Ext2Inode, infoOf } from "./disk_inode";
import { EXT2_FS_SIZE, Ext2Fs, ext2Ops, superblockChanged } from "./fs";
import { GROUP_DESCRIPTOR_SIZE, checkGroups, descriptorBlock } from "./group";
import { getInode } from "./inode_cache";
import { setExt2Operations } from "./operations";
import {
  DiskSuperblock, RO_COMPAT_SUPPORTED, STATE_VALID, SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE, checkSuperblock, firstInoOf,
  inodeSizeOf,
} from "./superblock";
import { syncFileSystem } from "./sync";

const EINVAL: i64 = 22;
const ENOMEM: i64 = 12;
const EROFS: i64 = 30;
const EBUSY: i64 = 16;
const ROOT_INO: u32 = 2;
const NANOSECONDS: u64 = 1000000000;

@inline function now(): u32 {
  return <u32>(fileTimeNow() / NANOSECONDS);
}

/** The mount record for a checked superblock. */
function newFs(device: BlockDevice, sb: DiskSuperblock, readOnly: bool, deviceNumber: u32): Ext2Fs | null {
  const address = kmalloc(EXT2_FS_SIZE);
  if (address == 0) return null;
  memory.fill(address, 0, EXT2_FS_SIZE);
  const fs = changetype<Ext2Fs>(address);
  fs.device = device;
  fs.superblock = sb;
  fs.blockShift = 10 + sb.logBlockSize;
  fs.blockSize = 1 << fs.blockShift;
  fs.blocksCount = sb.blocksCount;
  fs.inodesPerGroup = sb.inodesPerGroup;
  fs.blocksPerGroup = sb.blocksPerGroup;
  fs.firstDataBlock = sb.firstDataBlock;
  fs.groupCount = (sb.blocksCount - sb.firstDataBlock + sb.blocksPerGroup - 1) / sb.blocksPerGroup;
  fs.inodeSize = inodeSizeOf(sb);
  fs.firstIno = firstInoOf(sb);
  fs.descriptorsPerBlock = fs.blockSize / GROUP_DESCRIPTOR_SIZE;
  fs.readOnly = readOnly ? 1 : 0;
  fs.deviceNumber = deviceNumber;
  return fs;
}

/** Marks a read-write mount on disk, and says what Linux warns about. */
function markMounted(fs: Ext2Fs): i64 {
  const sb = fs.superblock;
  if ((sb.state & STATE_VALID) == 0) printf("ext2: mounting a file system that was not cleanly unmounted: run e2fsck\n");
  if (sb.maxMountCount > 0 && <i32>sb.mountCount >= <i32>sb.maxMountCount) {
    printf("ext2: maximal mount count reached, running e2fsck is recommended\n");
  }
  sb.state &= ~STATE_VALID;
  sb.mountCount++;
  sb.mtime = now();
  superblockChanged(fs);
  return syncFileSystem(fs);
}

/**
 * Mounts the ext2 file system on `device` (its files' st_dev is
 * `deviceNumber`): the root Inode with a holder for the mount, or -EINVAL
 * (not ext2, corrupt, an unsupported feature: logged), -EROFS (read-write
 * on a read-only device), -EBUSY (mounted already, or a swap area), -EIO, -ENOMEM.
 */
export function ext2Mount(device: BlockDevice, readOnly: bool, deviceNumber: u32): i64 {
  if (!readOnly && device.readOnly != 0) return -EROFS;
  // Held from the start, as Linux's exclusive open: a second mount or a swapon meanwhile is EBUSY.
  if (!claimBlockDevice(device, changetype<u32>(ext2Ops))) return -EBUSY;
  const mounted = mountClaimed(device, readOnly, deviceNumber);
  if (mounted < 0) releaseBlockDevice(device);
  return mounted;
}

/** ext2Mount's work once the device is held: the root, or -errno. */
function mountClaimed(device: BlockDevice, readOnly: bool, deviceNumber: u32): i64 {
  setExt2Operations();
  // Files' blocks are read from the disk itself: what was written through /dev/NAME goes there first.
  const object = device.object;
  if (object != null) writeBackObject(object, 0, U32.MAX_VALUE);
  if (deviceBytes(device) < <u64>(SUPERBLOCK_OFFSET + SUPERBLOCK_SIZE)) return -EINVAL;
  const got = getBlock(device, SUPERBLOCK_OFFSET / SUPERBLOCK_SIZE, SUPERBLOCK_SIZE);
  if (got < 0) return got;
  const sb = changetype<DiskSuperblock>(<u32>got);
  const checked = checkSuperblock(sb, deviceBytes(device) >> 10, readOnly);
  if (checked != 0) {
    putBlock(<u32>got);
    return checked;
  }
  const fs = newFs(device, sb, readOnly, deviceNumber);
  if (fs == null) {
    putBlock(<u32>got);
    return -ENOMEM;
  }
  const lastDescriptorBlock = descriptorBlock(fs, (fs.groupCount - 1) / fs.descriptorsPerBlock);
  let status: i64 = lastDescriptorBlock >= fs.blocksCount ? -EINVAL : checkGroups(fs);
  if (status != 0) status = -EINVAL;
  if (status == 0) {
    status = getInode(fs, ROOT_INO);
    if (status > 0 && !isDirectoryInode(changetype<Inode>(<u32>status))) {
      printf("ext2: cannot mount: the root inode is not a directory\n");
      freeInodes(fs, changetype<Inode>(<u32>status));
      status = -EINVAL;
    }
  }
  if (status < 0) {
    kfree(changetype<u32>(fs));
    putBlock(<u32>got);
    return status;
  }
  fs.root = <u32>status;
  if (!readOnly) markMounted(fs);
  return status;
}

/** Whether `inode` is one of ext2's. */
export function isExt2Inode(inode: Inode): bool {
  return inode.ops == ext2Ops;
}

/**
 * Whether anything of the file system mounted at `root` is in use beyond
 * the `rootHolders` holds on its root the caller knows of (the mount's, a
 * walk's): an open file, a working directory, a mapping, a mount on it.
 */
export function ext2Busy(root: Inode, rootHolders: u32): bool {
  const fs = infoOf(root).fs;
  for (let at = fs.inodes; at != 0; at = changetype<Ext2Inode>(at).next) {
    const info = changetype<Ext2Inode>(at);
    if (info.inode == 0) return true; // a freed file's pages are still mapped
    const inode = changetype<Inode>(info.inode);
    if (inode.refCount > (inode == root ? rootHolders : 0) || (inode != root && inode.mounted != null)) return true;
    const object = inode.object;
    if (object != null && object.refCount > 1) return true;
  }
  return false;
}

/** Frees every cached inode (they stay on disk as they are), `root` (held once, by the mount) last. */
function freeInodes(fs: Ext2Fs, root: Inode): void {
  fs.unmounting = 1;
  while (fs.inodes != 0) {
    const info = changetype<Ext2Inode>(fs.inodes);
    assert(info.inode != 0, "ext2 freeInodes: a freed file's pages are still in use");
    const inode = changetype<Inode>(info.inode);
    if (inode == root) {
      assert(inode.refCount == 1, "ext2 freeInodes: the root has holders besides the mount");
      inode.nlink = 0;
      releaseInode(inode);
    } else {
      assert(inode.refCount == 0, "ext2 freeInodes: an inode still has holders");
      inode.nlink = 1;
      dropLink(inode);
    }
  }
}

/**
 * Unmounts the file system whose root is `root` (taken off the mount
 * table already, its one hold the mount's; the caller checked ext2Busy):
 * writes everything back, marks the file system clean, frees its inodes
 * and the record. 0, or the first write error (it is unmounted all the same).
 */
export function ext2Unmount(root: Inode): i64 {
  const fs = infoOf(root).fs;
  let status = syncFileSystem(fs);
  if (fs.readOnly == 0) {
    fs.superblock.state |= STATE_VALID;
    superblockChanged(fs);
    const written = syncFileSystem(fs);
    if (status == 0) status = written;
  }
  freeInodes(fs, root);
  putBlock(changetype<u32>(fs.superblock));
  // Files' blocks were written to the disk itself: a later read through /dev/NAME must not find older copies.
  const object = fs.device.object;
  if (object != null) dropCleanRange(object, 0, U32.MAX_VALUE);
  releaseBlockDevice(fs.device);
  kfree(changetype<u32>(fs));
  return status;
}

/**
 * mount -o remount,ro or rw of the file system whose root is `root` (the
 * caller checked no file is open for writing when it goes read-only):
 * going read-only writes everything back and marks it clean on disk, as an
 * unmount; going read-write marks it in use and counts the mount, as a
 * mount. 0, -EROFS (a read-only device, or a feature we can only read) or
 * the first write error (then it stays as it was).
 */
export function ext2Remount(root: Inode, readOnly: bool): i64 {
  const fs = infoOf(root).fs;
  if ((fs.readOnly != 0) == readOnly) return 0;
  if (readOnly) {
    let status = syncFileSystem(fs);
    if (status == 0) {
      fs.superblock.state |= STATE_VALID;
      superblockChanged(fs);
      status = syncFileSystem(fs);
    }
    if (status == 0) fs.readOnly = 1;
    return status;
  }
  if (fs.device.readOnly != 0) return -EROFS;
  const unsupported = fs.superblock.roCompat & ~RO_COMPAT_SUPPORTED;
  if (unsupported != 0) {
    printf("ext2: cannot remount read-write: unsupported read-only features %x\n", unsupported);
    return -EROFS;
  }
  fs.readOnly = 0;
  return markMounted(fs);
}

/**
 * The machine is about to power off (init has ended): every ext2 file
 * system mounted read-write is written back and marked clean on disk, as
 * an unmount would leave it, so that the next mount (or e2fsck) finds it
 * so. Nothing is freed: nothing runs after this.
 */
export function ext2PowerOff(): void {
  for (let i: u32 = 0; mountAt(i) != null; i++) {
    const root = changetype<Mount>(mountAt(i)).root;
    if (!isExt2Inode(root)) continue;
    const fs = infoOf(root).fs;
    if (fs.readOnly != 0) continue;
    syncFileSystem(fs);
    fs.superblock.state |= STATE_VALID;
    superblockChanged(fs);
    syncFileSystem(fs);
  }
}
