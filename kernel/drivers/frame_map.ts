// The live frame map: F12 (or `framemap` on the command line) splits the
// framebuffer, the console keeping the left half and the right half
// showing every frame of RAM as a block of pixels coloured by its state
// (mm/frame_states.ts), with a legend. The timer redraws it
// REDRAWS_PER_SECOND times a second, and a cell whose colour changed since
// the last redraw flashes white for one redraw, so a fork, a burst of
// copy-on-write or the reclaimer at work shows. With more frames than
// pixels a cell is a group of frames, coloured by the mix of theirs.
// Only changed cells are drawn again: each cell's colour is kept in pages
// taken while the map is shown (they show as kernel objects). Hiding it
// says what the redraws cost, to show it does not distort what it shows.
import { TIMER_HZ } from "../arch/x86_64/pic";
import { rdtsc } from "../arch/x86_64/cpu";
import {
  FRAMEBUFFER_BACKGROUND, GLYPH_WIDTH, drawText, fillRectangle, framebufferColumns, framebufferHeight, framebufferWidth,
  setConsoleColumns,
} from "../console/framebuffer";
import { print, printf } from "../console/console";
import { formatInto, str } from "../lib/format";
import { allocPages, freePages, MAX_ORDER } from "../mm/buddy";
import { FRAME_STATE_COUNT, FrameState, PAGE_SIZE, frameStateName } from "../mm/frame";
import { frameLimit } from "../mm/frame_database";
import { FRAME_STATE_SHARED, frameStateByte } from "../mm/frame_states";
import { ticksToTenthsOfNs } from "../time/tsc";

const REDRAWS_PER_SECOND: u32 = 4;
const MARGIN: u32 = 8;
const LINE: u32 = 16; // a line of text
const SWATCH: u32 = 12;
const FLASH: u32 = 0xffffff;
const FLASHING: u32 = 1 << 24; // in a cell's kept colour: drawn white, its colour next time

// Colours by kind: the FrameState numbers, then shared anonymous and shared cache pages.
const KINDS: u32 = FRAME_STATE_COUNT + 2;
const SHARED_ANONYMOUS: u32 = FRAME_STATE_COUNT;
const SHARED_CACHE: u32 = FRAME_STATE_COUNT + 1;
const COLOURS = memory.data<u32>([
  0x000000, // hole
  0x28384c, // free
  0x707070, // reserved by firmware
  0xd04040, // kernel image
  0x906838, // boot modules and info
  0xc060d0, // frame database
  0xf0a020, // page tables
  0xe8e048, // kernel objects
  0x40c050, // anonymous
  0x4888ff, // file cache
  0xff80c0, // zero page
  0x40e8e8, // anonymous, shared
  0xb0b0ff, // file cache, shared
]);

let shown = false;
let ticks: u32 = 0;
let cells: u32 = 0;
let group: u32 = 1; // frames a cell
let size: u32 = 1; // a cell's side in pixels
let perRow: u32 = 0;
let left: u32 = 0; // the map's top left corner
let top: u32 = 0;
let kept: u32 = 0; // a u32 per cell: the colour drawn, with FLASHING
let keptOrder: u32 = 0;
let redraws: u64 = 0; // since the map was last shown
let redrawTicks: u64 = 0; // TSC ticks they took

@inline function kindOf(state: u8): u32 {
  const s = <u32>(state & ~FRAME_STATE_SHARED);
  if ((state & FRAME_STATE_SHARED) == 0) return s;
  return s == FrameState.Anonymous ? SHARED_ANONYMOUS : s == FrameState.FileCache ? SHARED_CACHE : s;
}

@inline function colourOf(kind: u32): u32 {
  return load<u32>(COLOURS + kind * 4);
}

/** The colour of cell `cell`: its frame's, or the mean of its frames'. */
function cellColour(cell: u32): u32 {
  const first = cell * group;
  if (group == 1) return colourOf(kindOf(frameStateByte(first)));
  const end = min(first + group, frameLimit);
  let red: u32 = 0;
  let green: u32 = 0;
  let blue: u32 = 0;
  for (let pfn = first; pfn < end; pfn++) {
    const colour = colourOf(kindOf(frameStateByte(pfn)));
    red += colour >> 16;
    green += (colour >> 8) & 0xff;
    blue += colour & 0xff;
  }
  const n = end - first;
  return ((red / n) << 16) | ((green / n) << 8) | (blue / n);
}

function drawCell(cell: u32, colour: u32): void {
  fillRectangle(left + (cell % perRow) * size, top + (cell / perRow) * size, size, size, colour);
}

/** Draws the cells whose colour changed (white, for one redraw) and those that flashed last time; all of them when `all`. */
function redraw(all: bool): void {
  for (let cell: u32 = 0; cell < cells; cell++) {
    const colour = cellColour(cell);
    const at = kept + cell * 4;
    const before = load<u32>(at);
    if (all || ((before & FLASHING) != 0 && colour == (before & ~FLASHING))) {
      drawCell(cell, colour);
      store<u32>(at, colour);
    } else if (colour != (before & ~FLASHING)) {
      drawCell(cell, FLASH);
      store<u32>(at, colour | FLASHING);
    }
  }
}

const text = memory.data(64);

function drawLabel(x: u32, y: u32, length: u32, rgb: u32): void {
  drawText(x, y, <u32>text, length, rgb);
}

function kindName(kind: u32): string {
  if (kind == SHARED_ANONYMOUS) return "anonymous, shared";
  if (kind == SHARED_CACHE) return "file cache, shared";
  return frameStateName(kind);
}

/** The title above the map and the legend, two kinds a line, below it. */
function drawLegend(x: u32, width: u32, legendTop: u32): void {
  const title = formatInto(<u32>text, 64, "%d frames, %d a cell of %dx%d px (F12)", frameLimit, group, size, size);
  drawLabel(x, MARGIN, title, 0xffffff);
  const half = width / 2;
  for (let kind: u32 = 0; kind < KINDS; kind++) {
    const cx = x + (kind % 2) * half;
    const cy = legendTop + (kind / 2) * LINE;
    fillRectangle(cx, cy + 2, SWATCH, SWATCH, colourOf(kind));
    drawLabel(cx + SWATCH + 4, cy, formatInto(<u32>text, 64, "%s", str(kindName(kind))), 0xc0c8d0);
  }
}

/** Chooses the cells' size and grouping for a map `width` x `height` pixels. */
function layOut(width: u32, height: u32): void {
  const area = width * height;
  group = max((frameLimit + area - 1) / area, 1);
  cells = (frameLimit + group - 1) / group;
  size = 1;
  for (let s: u32 = 8; s > 1; s--) {
    if (((cells + width / s - 1) / (width / s)) * s <= height) {
      size = s;
      break;
    }
  }
  perRow = width / size;
}

function show(): void {
  const screenWidth = framebufferWidth();
  if (screenWidth == 0 || frameLimit == 0) return;
  const consoleColumns = framebufferColumns() / 2;
  left = consoleColumns * GLYPH_WIDTH + MARGIN;
  top = MARGIN + LINE + 4;
  const width = screenWidth - left - MARGIN;
  const legendTop = framebufferHeight() - MARGIN - ((KINDS + 1) / 2) * LINE;
  layOut(width, legendTop - MARGIN - top);
  keptOrder = 0;
  while (keptOrder < MAX_ORDER && (<u64>PAGE_SIZE << keptOrder) < <u64>cells * 4) keptOrder++;
  kept = allocPages(keptOrder, FrameState.KernelObject, false);
  if (kept == 0) {
    print("framemap: no memory for the map\n");
    return;
  }
  setConsoleColumns(consoleColumns);
  fillRectangle(left - MARGIN, 0, screenWidth - left + MARGIN, framebufferHeight(), FRAMEBUFFER_BACKGROUND);
  drawLegend(left, width, legendTop);
  shown = true;
  ticks = 0;
  redraws = 0;
  redrawTicks = 0;
  redraw(true);
}

function hide(): void {
  shown = false;
  if (redraws != 0) {
    const microseconds = ticksToTenthsOfNs(redrawTicks / redraws) / 10000;
    printf("framemap: %d redraws, %d us each (%d.%d%% of the time at %d a second)\n", redraws, microseconds,
      microseconds * REDRAWS_PER_SECOND / 10000, microseconds * REDRAWS_PER_SECOND / 1000 % 10, REDRAWS_PER_SECOND);
  }
  freePages(kept);
  setConsoleColumns(framebufferWidth() / GLYPH_WIDTH);
  fillRectangle(left - MARGIN, 0, framebufferWidth() - left + MARGIN, framebufferHeight(), FRAMEBUFFER_BACKGROUND);
}

/** F12: the map on, or off. */
export function toggleFrameMap(): void {
  if (shown) hide();
  else show();
}

/** Every timer tick: a redraw REDRAWS_PER_SECOND times a second while the map is shown. */
export function frameMapTick(): void {
  if (!shown || ++ticks < TIMER_HZ / REDRAWS_PER_SECOND) return;
  ticks = 0;
  const start = rdtsc();
  redraw(false);
  redrawTicks += rdtsc() - start;
  redraws++;
}
