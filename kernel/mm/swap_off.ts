// Emptying a swap area for swapoff (Linux's try_to_unuse). TEMPORARY, a
// stand-in for the swapoff/swapon branch only: it empties nothing, so an
// area with any slot in use is refused. The real one, which reads every
// page back in, replaces this file when the branches merge.
import { SwapArea, swapAreaAt } from "./swap_area";

const ENOMEM: i32 = 12;

/** Brings every page of area `index` back into memory: 0, or -ENOMEM when that cannot be done. */
export function emptySwapArea(index: u32): i32 {
  return changetype<SwapArea>(swapAreaAt(index)).inUse == 0 ? 0 : -ENOMEM;
}
