// Making written data durable: every dirty page written back, then every
// disk with a volatile write cache told to flush it (sync(2), and what a
// clean shutdown does before powering off).
import { writeBackAll } from "../mm/writeback";
import { blockDeviceAt, blockDeviceCount, isPartition } from "./block_device";
import { BLOCK_FLUSH, blockIo } from "./request";

export function syncEverything(): void {
  writeBackAll();
  for (let i: u32 = 0; i < blockDeviceCount(); i++) {
    const device = blockDeviceAt(i);
    if (!isPartition(device)) blockIo(device, BLOCK_FLUSH, 0, 0, 0);
  }
}
