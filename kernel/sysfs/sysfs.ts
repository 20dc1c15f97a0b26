// /sys, as much of Linux's sysfs as the block devices need: a read-only
// file system of generated texts (like /proc: each inode is made on lookup
// and freed when let go), mounted at boot.
//   /sys/block/DISK/{dev,ro,removable,size,stat}      a disk (vda, sda, ...)
//   /sys/block/DISK/PART/{dev,partition,ro,size,start,stat}   its partitions
// (Linux's /sys/block/DISK is a link into /sys/devices; here it is the
// directory itself, which readers that only open the paths cannot tell.)
import { BlockDevice, blockDeviceAt, blockDeviceCount, deviceNameAddress, deviceNameLength, isPartition } from "../block/block_device";
import { FileKind, O_ACCMODE, newFile } from "../fs/file";
import {
  EmitEntry, INODE_OPS_SIZE, Inode, InodeOps, S_IFDIR, S_IFREG, emitDots, newInode, releaseInode, retainInode, setInodeName,
} from "../fs/inode";
import { deviceNumber } from "../fs/cpio";
import { mountAtBoot } from "../fs/mount";
import { equalsAscii, storeAscii } from "../lib/ascii";
import { kfree, kmalloc } from "../mm/slab";
import {
  DISK_FILES, DISK_FILE_COUNT, PARTITION_FILES, PARTITION_FILE_COUNT, blockFileName, blockFileText, hasBlockFile,
} from "./block_files";

const ENOMEM: i64 = 12;
const EACCES: i64 = 13;
const SYSFS_MAGIC: u64 = 0x62656572;
const TEXT_CAPACITY: u32 = 256;

/** Inode.kind; a device directory's Inode.data is the device's index in the block layer's table, a file's too. */
const enum SysNode {
  Root = 1,
  Block = 2, // /sys/block
  Device = 3, // /sys/block/DISK or /sys/block/DISK/PART
  File = 4, // one of a device's files: Inode.index says which (BlockFile)
}

const sysOps = changetype<InodeOps>(memory.data(INODE_OPS_SIZE, 4));
let sysDevice: u32 = 0;

@inline function inodeNumber(kind: u32, device: u32, file: u32): u64 {
  return kind == SysNode.Root ? 1 : (<u64>kind << 24) | (<u64>device << 8) | <u64>file;
}

/** A new inode for a node in `parent`, named `name`, with a reference for the caller; -ENOMEM. */
function makeNode(kind: u32, device: u32, file: u32, parent: Inode, name: u32, length: u32): i64 {
  const directory = kind != SysNode.File;
  const inode = newInode(sysOps, directory ? S_IFDIR | 0o555 : S_IFREG | 0o444, sysDevice);
  if (inode == null) return -ENOMEM;
  inode.kind = kind;
  inode.data = device;
  inode.index = file;
  inode.ino = inodeNumber(kind, device, file);
  inode.nlink = 0; // no name holds it: the last holder frees it
  inode.parent = retainInode(parent); // let go in evict: an open file's path can always be rebuilt
  if (!setInodeName(inode, parent, name, length)) {
    releaseInode(inode);
    return -ENOMEM;
  }
  return <i64>changetype<u32>(inode);
}

function evict(inode: Inode): void {
  if (inode.kind != SysNode.Root) releaseInode(inode.parent);
}

@inline function nameIs(device: BlockDevice, name: u32, length: u32): bool {
  return deviceNameLength(device) == length && memory.compare(deviceNameAddress(device), name, length) == 0;
}

/** Whether device `index` is listed in `dir`: a disk in /sys/block, a partition in its disk's directory. */
function listedIn(dir: Inode, index: u32): bool {
  const device = blockDeviceAt(index);
  if (dir.kind == SysNode.Block) return !isPartition(device);
  return dir.kind == SysNode.Device && isPartition(device) && device.whole == blockDeviceAt(dir.data);
}

function filesOf(dir: Inode): u32 {
  return isPartition(blockDeviceAt(dir.data)) ? <u32>PARTITION_FILES : <u32>DISK_FILES;
}

function fileCountOf(dir: Inode): u32 {
  return isPartition(blockDeviceAt(dir.data)) ? PARTITION_FILE_COUNT : DISK_FILE_COUNT;
}

function lookup(dir: Inode, name: u32, length: u32): i64 {
  if (dir.kind == SysNode.Root) {
    return equalsAscii(name, length, "block") ? makeNode(SysNode.Block, 0, 0, dir, name, length) : 0;
  }
  if (dir.kind == SysNode.Device) {
    for (let i: u32 = 0; i < fileCountOf(dir); i++) {
      const file = <u32>load<u8>(filesOf(dir) + i);
      if (equalsAscii(name, length, blockFileName(file))) return makeNode(SysNode.File, dir.data, file, dir, name, length);
    }
  }
  for (let i: u32 = 0; i < blockDeviceCount(); i++) {
    if (listedIn(dir, i) && nameIs(blockDeviceAt(i), name, length)) return makeNode(SysNode.Device, i, 0, dir, name, length);
  }
  return 0;
}

/** Positions: 0 ".", 1 "..", then the directory's files (a device's), then its subdirectories (2 + files + device index). */
function readdir(dir: Inode, cursor: u64, emit: EmitEntry, context: u32): i64 {
  let next = emitDots(dir, cursor, emit, context);
  if (next < 2) return <i64>next;
  const scratch = memory.data(16);
  if (dir.kind == SysNode.Root) {
    if (next == 2 && emit(context, inodeNumber(SysNode.Block, 0, 0), S_IFDIR, <u32>scratch, storeAscii(scratch, "block"), 3)) next = 3;
    return <i64>next;
  }
  const files = dir.kind == SysNode.Device ? fileCountOf(dir) : 0;
  for (let i: u32 = 0; i < files; i++) {
    const position = <u64>(2 + i);
    if (next > position) continue;
    const file = <u32>load<u8>(filesOf(dir) + i);
    const length = storeAscii(scratch, blockFileName(file));
    if (!emit(context, inodeNumber(SysNode.File, dir.data, file), S_IFREG, <u32>scratch, length, position + 1)) return <i64>next;
    next = position + 1;
  }
  for (let i: u32 = 0; i < blockDeviceCount(); i++) {
    const position = <u64>(2 + files + i);
    if (next > position || !listedIn(dir, i)) continue;
    const device = blockDeviceAt(i);
    if (!emit(context, inodeNumber(SysNode.Device, i, 0), S_IFDIR, deviceNameAddress(device), deviceNameLength(device), position + 1)) {
      return <i64>next;
    }
    next = position + 1;
  }
  return <i64>next;
}

/** A File holding the text of device file `inode` (taking over the caller's hold), or -errno: EACCES for writing. */
function open(inode: Inode, flags: u32): i64 {
  if ((flags & O_ACCMODE) != 0) return -EACCES;
  const device = blockDeviceAt(inode.data);
  if (!hasBlockFile(device, inode.index)) return -EACCES;
  const text = kmalloc(TEXT_CAPACITY);
  if (text == 0) return -ENOMEM;
  const file = newFile(FileKind.Generated, inode, flags);
  if (file == null) {
    kfree(text);
    return -ENOMEM;
  }
  file.data = text;
  file.size = min(blockFileText(device, inode.index, text, TEXT_CAPACITY), TEXT_CAPACITY);
  return <i64>changetype<u32>(file);
}

function statfs(inode: Inode, into: u32): void {
  store<u64>(into, SYSFS_MAGIC); // f_type
}

/** The root of a new sysfs (one holder, for the mount). */
export function newSysfs(device: u32): Inode | null {
  if (sysOps.lookup == 0) {
    sysOps.lookup = changetype<u32>(lookup);
    sysOps.readdir = changetype<u32>(readdir);
    sysOps.evict = changetype<u32>(evict);
    sysOps.open = changetype<u32>(open);
    sysOps.statfs = changetype<u32>(statfs);
  }
  sysDevice = device;
  const root = newInode(sysOps, S_IFDIR | 0o555, device);
  if (root == null) return null;
  root.kind = SysNode.Root;
  root.nlink = 2;
  root.ino = 1;
  return root;
}

/** Mounts sysfs over the root's /sys, which the boot tree made; false if it could not. */
export function mountSysAtBoot(): bool {
  const device = deviceNumber(0, 4);
  return mountAtBoot("sys", newSysfs(device), "sysfs", device);
}
