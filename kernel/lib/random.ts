// The kernel's random numbers (AT_RANDOM, address-space randomisation,
// /dev/urandom, getrandom). There is no entropy pool: RDRAND when the CPU
// has it (QEMU's -cpu max does, fed from the host's generator), otherwise
// xorshift64* seeded from the time-stamp counter, which is unpredictable
// enough for layout randomisation in tests but not for keys.
import { cpuid, rdrand, rdtsc } from "../arch/x86_64/cpu";

const CPUID_RDRAND: u32 = 1 << 30; // CPUID.1:ECX
// Intel's advice (and Linux's RDRAND_RETRY_LOOPS): a healthy generator is
// drained for at most a few tries in a row.
const RDRAND_TRIES: u32 = 10;

const scratch = memory.data(16, 8);
let probed = false;
let haveRdrand = false;
let state: u64 = 0;

function xorshift(): u64 {
  if (state == 0) state = rdtsc() | 1;
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return state * 0x2545f4914f6cdd1d;
}

/** 64 random bits. */
export function randomU64(): u64 {
  if (!probed) {
    cpuid(1, 0, <u32>scratch);
    haveRdrand = (load<u32>(scratch + 8) & CPUID_RDRAND) != 0;
    probed = true;
  }
  if (haveRdrand) {
    for (let i: u32 = 0; i < RDRAND_TRIES; i++) {
      if (rdrand(<u32>scratch) != 0) return load<u64>(scratch);
    }
  }
  return xorshift();
}

/** A random number in [0, bound) (bound > 0); the bias of the modulo is negligible for the bounds used. */
export function randomBelow(bound: u64): u64 {
  return randomU64() % bound;
}
