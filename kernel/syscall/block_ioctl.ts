// The block-device ioctls programs ask for (mkfs, fdisk, blockdev, dd):
// sizes and the sector size, the read-only flag, and BLKFLSBUF (write the
// device's dirty pages back). Rereading the partition table (BLKRRPART) is
// not supported: partitions are read once, at boot.
import { deviceBytes } from "../block/block_device";
import { BLOCK_FLUSH, blockIo } from "../block/request";
import { blockDeviceOf, blockFileObject } from "../fs/block_file";
import { File } from "../fs/file";
import { Inode } from "../fs/inode";
import { putUser32, putUser64 } from "../mm/user_copy";
import { writeBackObject } from "../mm/writeback";
import { Process, spaceOf } from "../proc/process";
import { EFAULT, EINVAL, ENOTTY, ENXIO } from "./errno";

const BLKROGET: u32 = 0x125e;
const BLKRRPART: u32 = 0x125f;
const BLKGETSIZE: u32 = 0x1260;
const BLKFLSBUF: u32 = 0x1261;
const BLKSSZGET: u32 = 0x1268;
const BLKBSZGET: u32 = 0x80081270;
const BLKPBSZGET: u32 = 0x127b;
const BLKGETSIZE64: u32 = 0x80081272;

export function blockIoctl(process: Process, file: File, command: u32, argument: u64): i64 {
  const inode = changetype<Inode>(file.inode);
  const device = blockDeviceOf(inode);
  if (device == null) return -ENXIO;
  const space = spaceOf(process);
  let ok = true;
  switch (command) {
    case BLKGETSIZE64: ok = putUser64(space, argument, deviceBytes(device)); break;
    case BLKGETSIZE: ok = putUser64(space, argument, device.sectors); break;
    case BLKSSZGET:
    case BLKPBSZGET: ok = putUser32(space, argument, (device.whole.blockMask + 1) << 9); break; // 4096 on a disk of 4 KiB blocks
    case BLKBSZGET: ok = putUser32(space, argument, 4096); break;
    case BLKROGET: ok = putUser32(space, argument, device.readOnly); break;
    case BLKFLSBUF: {
      const object = blockFileObject(inode);
      if (object == null) return -ENXIO;
      const written = writeBackObject(object, 0, U32.MAX_VALUE);
      return written != 0 ? <i64>written : <i64>blockIo(device, BLOCK_FLUSH, 0, 0, 0);
    }
    case BLKRRPART: return -EINVAL;
    default: return -ENOTTY;
  }
  return ok ? 0 : -EFAULT;
}
