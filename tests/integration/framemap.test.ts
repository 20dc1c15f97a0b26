// The live frame map (kernel/drivers/frame_map.ts) on QEMU's screen: booted
// with `framemap`, user/memscene.c touches 64 MiB, forks, lets the child
// write a quarter and exit, pausing at each moment; the screendump at each
// has the legend's colours in the proportions the moment makes: a quarter
// of the frames anonymous after the touch, shared after the fork, an
// eighth of them exclusive again after the child's writes, and none
// shared after its exit, and the frame database and kernel image their
// share of RAM. Then F12 hides the map and gives the console the
// whole screen back and says what the redraws cost, which the test
// prints. The screenshots go to build/framemap/ as PNG.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Image, encodePng, pixel } from "./screen";
import { withMachine } from "./interactive";
import { ROOT } from "./qemu";

const TEST_TIMEOUT = 240_000;
const BACKGROUND = 0x101820;
// kernel/drivers/frame_map.ts: where the map is on a 1024x768 screen, and its colours.
const MAP = { left: 520, top: 28, right: 1016 };
const ANONYMOUS = 0x40c050;
const SHARED_ANONYMOUS = 0x40e8e8;
const FREE = 0x28384c;
const FRAME_DATABASE = 0xc060d0;
const KERNEL_IMAGE = 0xd04040;
const FLASH = 0xffffff;

/** Pixels of each colour in the map's area (above the legend), and how many are cells at all. */
function census(image: Image, bottom: number): { of: (rgb: number) => number; cells: number } {
  const counts = new Map<number, number>();
  for (let y = MAP.top; y < bottom; y++) {
    for (let x = MAP.left; x < MAP.right; x++) {
      const rgb = pixel(image, x, y);
      counts.set(rgb, (counts.get(rgb) ?? 0) + 1);
    }
  }
  const cells = [...counts].filter(([rgb]) => rgb !== BACKGROUND).reduce((sum, [, n]) => sum + n, 0);
  return { of: (rgb) => counts.get(rgb) ?? 0, cells };
}

const MACHINE = { cmdline: "exit=qemu framemap init=/bin/memscene -- -s 8000", memory: "256M", timeoutMs: 200_000, waitMs: 120_000 };
const TITLE = "framemap: the live map shows a fork copying nothing and the child's writes copying a quarter";

describe("framemap", () => {
  it(TITLE, { timeout: TEST_TIMEOUT }, async () => {
    const dir = join(ROOT, "build/framemap");
    mkdirSync(dir, { recursive: true });
    await withMachine(MACHINE, async (machine) => {
      const legendTop = 768 - 8 - 7 * 16;
      // Fractions of the map's cells: [anonymous, shared anonymous], each within 0.03 of what the moment makes.
      const moments: [string, number, number][] = [
        ["touched", 0.25, 0], ["forked", 0, 0.25], ["child-wrote", 0.125, 0.1875], ["exited", 0.25, 0],
      ];
      for (const [name, anonymous, shared] of moments) {
        await machine.expect(`memscene: ${name}\n`);
        const image = await machine.waitForScreen((screen) => {
          const { of, cells } = census(screen, legendTop - 8);
          expect(of(FLASH), `${name}: nothing flashing`).toBe(0);
          expect(Math.abs(of(ANONYMOUS) / cells - anonymous), `${name}: anonymous`).toBeLessThan(0.03);
          expect(Math.abs(of(SHARED_ANONYMOUS) / cells - shared), `${name}: shared`).toBeLessThan(0.03);
          expect(of(FREE) / cells, `${name}: free`).toBeGreaterThan(0.3);
          // 256 MiB: 512 frames of records (32 bytes each for 65,536 frames), and the kernel image's 1.7 MiB or so.
          expect(Math.abs(of(FRAME_DATABASE) / cells - 512 / 65536), `${name}: frame database`).toBeLessThan(0.0005);
          expect(Math.abs(of(KERNEL_IMAGE) / cells - 0.007), `${name}: kernel image`).toBeLessThan(0.003);
        }, 6000); // within the moment's pause of 8 s, however slow a loaded host makes the screendumps
        writeFileSync(join(dir, `${name}.png`), encodePng(image));
      }
      await machine.sendKey("f12");
      const cost = await machine.expect(/framemap: (\d+) redraws, (\d+) us each \(\d+\.\d% of the time at 4 a second\)/);
      console.log(`live map: ${cost[0]}`);
      expect(Number(cost[1])).toBeGreaterThan(4); // the moments' pauses alone last 32 s
      await machine.waitForScreen((screen) => {
        expect(census(screen, legendTop - 8).cells, "the map is gone").toBe(0);
      }, 3000);
      expect(await machine.waitExit()).toBe(33);
    });
  });
});
