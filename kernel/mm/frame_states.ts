// A frame's state as one byte, for pictures of physical memory
// (/proc/framestates, the live map): the FrameState number, with
// FRAME_STATE_SHARED added when two or more page tables map the frame (a
// page shared copy-on-write after a fork, a library's page in every
// process that runs it). Frames without a record are holes.
import { FRAMES_PER_SECTION, FrameState, SECTION_COUNT, frame, sectionRecords } from "./frame";

export const FRAME_STATE_SHARED: u8 = 0x80;

export function frameStateByte(pfn: u32): u8 {
  if (pfn >= SECTION_COUNT * FRAMES_PER_SECTION || sectionRecords(pfn / FRAMES_PER_SECTION) == 0) return <u8>FrameState.Hole;
  const f = frame(pfn);
  return f.mapCount >= 2 && f.state != FrameState.ZeroPage ? f.state | FRAME_STATE_SHARED : f.state;
}
