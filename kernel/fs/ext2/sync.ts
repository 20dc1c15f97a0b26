// Writing an ext2 file system back to its disk: a file's pages and inode
// (fsync), or every cached inode and file, then the metadata in the
// buffer cache and the superblock (syncfs, sync, umount), each ended by a
// flush of the drive's write cache.
import { BLOCK_FLUSH, blockIo } from "../../block/request";
import { MemoryObject } from "../../mm/memory_object";
import { writeBackObject } from "../../mm/writeback";
import { Inode, fileTimeNow, isRegularInode, releaseInode, retainInode } from "../inode";
import { Ext2Inode, infoOf, storeInode } from "./disk_inode";
import { Ext2Fs, superblockChanged } from "./fs";

const NANOSECONDS: u64 = 1000000000;

@inline function firstError(status: i64, next: i64): i64 {
  return status != 0 ? status : next;
}

/** Writes the file's dirty pages and its inode record (into the buffer cache): 0 or -errno. */
function writeFile(inode: Inode): i64 {
  let status: i64 = 0;
  if (isRegularInode(inode)) status = writeBackObject(changetype<MemoryObject>(inode.object), 0, U32.MAX_VALUE);
  return firstError(status, storeInode(inode));
}

/** Writes the buffer cache's dirty blocks of the device and flushes the drive. */
function writeMetadata(fs: Ext2Fs): i64 {
  const object = fs.device.object;
  const status: i64 = object != null ? writeBackObject(object, 0, U32.MAX_VALUE) : 0;
  return firstError(status, blockIo(fs.device, BLOCK_FLUSH, 0, 0, 0));
}

/** The next cached inode this pass has not written yet, or null. */
function nextUnwritten(fs: Ext2Fs): Inode | null {
  for (let at = fs.inodes; at != 0; at = changetype<Ext2Inode>(at).next) {
    const info = changetype<Ext2Inode>(at);
    if (info.inode != 0 && info.syncPass != fs.syncPass) return changetype<Inode>(info.inode);
  }
  return null;
}

/**
 * Writes everything of the file system: every cached inode and its pages,
 * the superblock (s_wtime) and the metadata. A write may sleep and see
 * inodes come and go, so each pass marks the inodes it wrote and looks
 * for the next from the list's head.
 */
export function syncFileSystem(fs: Ext2Fs): i64 {
  if (fs.readOnly != 0) return 0;
  let status: i64 = 0;
  fs.syncPass++;
  for (let inode = nextUnwritten(fs); inode != null; inode = nextUnwritten(fs)) {
    infoOf(inode).syncPass = fs.syncPass;
    retainInode(inode);
    status = firstError(status, writeFile(inode));
    releaseInode(inode);
  }
  fs.superblock.wtime = <u32>(fileTimeNow() / NANOSECONDS);
  superblockChanged(fs);
  return firstError(status, writeMetadata(fs));
}

/** SyncOp: fsync of one file (its pages, its inode, the metadata), or syncfs of its whole file system. */
export function syncExt2(inode: Inode, whole: bool): i64 {
  const fs = infoOf(inode).fs;
  if (whole) return syncFileSystem(fs);
  if (fs.readOnly != 0) return 0;
  return firstError(writeFile(inode), writeMetadata(fs));
}
