// The memory report: what every frame is used for, from the counts the
// frame database keeps current. Printed at boot; later /proc/meminfo.
import { printf } from "../console/console";
import { str } from "../lib/format";
import { freeFrameCount } from "./buddy";
import { FRAME_RECORD_SIZE, FRAME_STATE_COUNT, FrameState, frameStateCount, frameStateName } from "./frame";
import { databaseBytes, framesAbove4G, managedFrames } from "./frame_database";

const KIB_PER_FRAME: u64 = 4;

export function printMemoryReport(): void {
  const total = <u64>managedFrames;
  const free = <u64>freeFrameCount();
  printf("memory: %d KiB total, %d KiB free, %d KiB in use or reserved\n",
    total * KIB_PER_FRAME, free * KIB_PER_FRAME, (total - free) * KIB_PER_FRAME);
  for (let state: u32 = 1; state < FRAME_STATE_COUNT; state++) {
    const count = <u64>frameStateCount(<FrameState>state);
    if (count != 0) printf("  %-22s %8d frames %10d KiB\n", str(frameStateName(state)), count, count * KIB_PER_FRAME);
  }
  printf("frame database: %d bytes per frame, %d KiB for %d frames\n",
    FRAME_RECORD_SIZE, databaseBytes / 1024, total);
  if (framesAbove4G != 0) {
    printf("memory above 4 GiB: %d KiB not managed (TypeScript reaches only the first 4 GiB)\n",
      framesAbove4G * KIB_PER_FRAME);
  }
}
