// A clock hand over the frame database: reclaim's walks (reclaim.ts over
// cached pages, swap_out.ts over anonymous ones) go round the frames in
// physical order, each keeping its own hand, so they need no list links.
import { FRAMES_PER_SECTION, NO_FRAME, SECTION_COUNT, sectionRecords } from "./frame";

const ALL_FRAMES: u32 = SECTION_COUNT * FRAMES_PER_SECTION;

/**
 *   0 at: the next frame number to look at  4 visited: frames passed in this sweep
 */
@unmanaged export class ClockHand {
  at: u32;
  visited: u32;
}

/** Starts a sweep: nextFrame gives frames until the hand has gone twice round. */
@inline export function startSweep(hand: ClockHand): void {
  hand.visited = 0;
}

/** The next frame with a record under the hand (sections without RAM skipped whole), or NO_FRAME when the sweep is over. */
export function nextFrame(hand: ClockHand): u32 {
  while (hand.visited < ALL_FRAMES * 2) {
    const pfn = hand.at;
    if (sectionRecords(pfn / FRAMES_PER_SECTION) == 0) {
      const skipped = FRAMES_PER_SECTION - pfn % FRAMES_PER_SECTION;
      hand.at = (pfn + skipped) % ALL_FRAMES;
      hand.visited += skipped;
      continue;
    }
    hand.at = (pfn + 1) % ALL_FRAMES;
    hand.visited++;
    return pfn;
  }
  return NO_FRAME;
}
