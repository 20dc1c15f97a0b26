// Memory-management checks and benchmarks run from the command line:
//   selftest=mm-fill   every free frame allocated, written, checked, freed
//   selftest=bench-mm  cost of the hot paths, printed as numbers
import { copyPage, copyPageRep, rdtsc, zeroPage, zeroPageRep } from "../arch/x86_64/cpu";
import { print, printf } from "../console/console";
import { str } from "../lib/format";
import { MAX_ORDER, allocPage, allocPages, checkFreeLists, freeFrameCount, freeListLength, freePages } from "../mm/buddy";
import { FrameState, NO_FRAME, PAGE_SIZE, frame, frameAddress, frameNumber } from "../mm/frame";
import { PTE_NO_EXECUTE, PTE_WRITABLE, allocTable, mapPage, unmapPage } from "../mm/page_table";
import { ticksToTenthsOfNs, tscFrequency } from "../time/tsc";

const lengthsAtStart = memory.data((MAX_ORDER + 1) * 4, 4);

@inline function pattern(page: u32, word: u32): u64 {
  return (<u64>page * 0x9e3779b97f4a7c15) ^ <u64>word;
}

/**
 * Allocates every free frame, chaining them through Frame.next, writes a
 * pattern into each, checks it, frees them all, and demands the free count
 * and the shape of every free list be exactly what they were.
 */
export function mmFill(): bool {
  const before = freeFrameCount();
  for (let order: u32 = 0; order <= MAX_ORDER; order++) store<u32>(lengthsAtStart + order * 4, freeListLength(order));
  let chain = NO_FRAME;
  let count: u32 = 0;
  while (true) {
    const page = allocPage(FrameState.Anonymous, false);
    if (page == 0) break;
    frame(frameNumber(page)).next = chain;
    chain = frameNumber(page);
    count++;
  }
  printf("mm-fill: allocated %d frames (%d were free), %d left\n", count, before, freeFrameCount());
  // One word per 512 bytes: enough to catch two frames sharing memory.
  for (let pfn = chain; pfn != NO_FRAME; pfn = frame(pfn).next) {
    const page = frameAddress(pfn);
    for (let word: u32 = 0; word < PAGE_SIZE / 8; word += 64) store<u64>(page + word * 8, pattern(page, word));
  }
  let bad: u32 = 0;
  for (let pfn = chain; pfn != NO_FRAME; pfn = frame(pfn).next) {
    const page = frameAddress(pfn);
    for (let word: u32 = 0; word < PAGE_SIZE / 8; word += 64) {
      if (load<u64>(page + word * 8) != pattern(page, word)) bad++;
    }
  }
  let pfn = chain;
  while (pfn != NO_FRAME) {
    const next = frame(pfn).next;
    freePages(frameAddress(pfn));
    pfn = next;
  }
  let sameLists = true;
  for (let order: u32 = 0; order <= MAX_ORDER; order++) {
    if (freeListLength(order) != load<u32>(lengthsAtStart + order * 4)) sameLists = false;
  }
  const consistent = checkFreeLists();
  printf("mm-fill: %d bad words; free frames %d after, %d before; free lists %s, %s\n", bad, freeFrameCount(), before,
    str(sameLists ? "as at boot" : "CHANGED"), str(consistent ? "consistent" : "INCONSISTENT"));
  return count == before && bad == 0 && freeFrameCount() == before && sameLists && consistent;
}

function report(name: string, ticks: u64, repetitions: u32): void {
  const tenths = ticksToTenthsOfNs(ticks) / repetitions;
  printf("bench-mm %-32s %8d.%d ns %8d ticks  x%d\n", str(name), tenths / 10, tenths % 10, ticks / repetitions, repetitions);
}

const BENCH_PAGES: u32 = 256; // 1 MiB: the pages under test, touched once before timing
const ROUNDS: u32 = 8;

function zeroLoop(page: u32): void {
  for (let at = page; at < page + PAGE_SIZE; at += 8) store<u64>(at, 0);
}

function copyLoop(to: u32, from: u32): void {
  for (let i: u32 = 0; i < PAGE_SIZE; i += 8) store<u64>(to + i, load<u64>(from + i));
}

export function benchMm(): bool {
  printf("bench-mm: TSC %d kHz\n", tscFrequency() / 1000);
  const pairs: u32 = 20000;
  let start = rdtsc();
  for (let i: u32 = 0; i < pairs; i++) freePages(allocPage(FrameState.Anonymous, false));
  report("alloc+free order 0", rdtsc() - start, pairs);

  const block = allocPages(8, FrameState.Anonymous, true);
  const other = allocPages(8, FrameState.Anonymous, true);
  if (block == 0 || other == 0) return false;
  const n = BENCH_PAGES * ROUNDS;
  for (let p: u32 = 0; p < BENCH_PAGES; p++) copyPage(other + p * PAGE_SIZE, block + p * PAGE_SIZE); // warm up
  start = rdtsc();
  for (let r: u32 = 0; r < ROUNDS; r++) for (let p: u32 = 0; p < BENCH_PAGES; p++) zeroPageRep(block + p * PAGE_SIZE);
  report("zero page: rep stosq", rdtsc() - start, n);
  start = rdtsc();
  for (let r: u32 = 0; r < ROUNDS; r++) for (let p: u32 = 0; p < BENCH_PAGES; p++) zeroPage(block + p * PAGE_SIZE);
  report("zero page: unrolled movs (used)", rdtsc() - start, n);
  start = rdtsc();
  for (let r: u32 = 0; r < ROUNDS; r++) for (let p: u32 = 0; p < BENCH_PAGES; p++) memory.fill(block + p * PAGE_SIZE, 0, PAGE_SIZE);
  report("zero page: memory.fill", rdtsc() - start, n);
  start = rdtsc();
  for (let r: u32 = 0; r < ROUNDS; r++) for (let p: u32 = 0; p < BENCH_PAGES; p++) zeroLoop(block + p * PAGE_SIZE);
  report("zero page: TypeScript loop", rdtsc() - start, n);
  start = rdtsc();
  for (let r: u32 = 0; r < ROUNDS; r++) for (let p: u32 = 0; p < BENCH_PAGES; p++) copyPageRep(other + p * PAGE_SIZE, block + p * PAGE_SIZE);
  report("copy page: rep movsq", rdtsc() - start, n);
  start = rdtsc();
  for (let r: u32 = 0; r < ROUNDS; r++) for (let p: u32 = 0; p < BENCH_PAGES; p++) copyPage(other + p * PAGE_SIZE, block + p * PAGE_SIZE);
  report("copy page: unrolled movs (used)", rdtsc() - start, n);
  start = rdtsc();
  for (let r: u32 = 0; r < ROUNDS; r++) for (let p: u32 = 0; p < BENCH_PAGES; p++) memory.copy(other + p * PAGE_SIZE, block + p * PAGE_SIZE, PAGE_SIZE);
  report("copy page: memory.copy", rdtsc() - start, n);
  start = rdtsc();
  for (let r: u32 = 0; r < ROUNDS; r++) for (let p: u32 = 0; p < BENCH_PAGES; p++) copyLoop(other + p * PAGE_SIZE, block + p * PAGE_SIZE);
  report("copy page: TypeScript loop", rdtsc() - start, n);

  // A scratch address space; a neighbouring mapping keeps the tables alive,
  // so this measures the mapping itself, not table allocation.
  const root = allocTable();
  const at: u64 = 0x400000;
  mapPage(root, at + PAGE_SIZE, block, PTE_WRITABLE | PTE_NO_EXECUTE);
  start = rdtsc();
  for (let i: u32 = 0; i < pairs; i++) {
    mapPage(root, at, block, PTE_WRITABLE | PTE_NO_EXECUTE);
    unmapPage(root, at);
  }
  report("map+unmap 4 KiB", rdtsc() - start, pairs);
  start = rdtsc();
  for (let i: u32 = 0; i < pairs; i++) {
    mapPage(root, at + (4 << 30), block, PTE_WRITABLE | PTE_NO_EXECUTE);
    unmapPage(root, at + (4 << 30));
  }
  report("map+unmap with 3 new tables", rdtsc() - start, pairs);
  unmapPage(root, at + PAGE_SIZE);
  freePages(root);
  freePages(block);
  freePages(other);
  print("bench-mm: done\n");
  return true;
}
