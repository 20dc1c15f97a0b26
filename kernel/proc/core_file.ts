// The file a core dump is written to, opened as Linux's do_coredump opens
// it under the default core_pattern "core": `core` in the working
// directory, an old one unlinked first and the new one made exclusively
// (Linux: O_CREAT | O_EXCL | O_NOFOLLOW, mode 0600 less the umask), so that
// a link or a second name planted there is replaced, never written
// through. A directory, or a directory where nothing can be made (/proc, a
// removed one), means no core.
//
// Writes follow Linux's dump_emit and dump_skip: each piece goes whole or
// not at all, and RLIMIT_CORE bounds the bytes written, while skipped
// bytes (holes) cost nothing; after the first refusal nothing more is
// written. A core cut short this way still counts as dumped, as on Linux.
import { Inode, S_IFREG, createIn, isDirectoryInode, lookupIn, releaseInode, unlinkIn } from "../fs/inode";
import { writeInode } from "../fs/file_io";
import { Process } from "./process";
import { RLIMIT_CORE, softLimit } from "./resource_limits";

const CORE_NAME = <u32>memory.data<u8>([0x63, 0x6f, 0x72, 0x65]); // "core"
const CORE_NAME_LENGTH: u32 = 4;
const CORE_MODE: u32 = 0o600;

let file: Inode | null = null;
let position: u64 = 0; // where the last write ended
let pendingSkip: u64 = 0; // holes to leave before the next write
let written: u64 = 0;
let limit: u64 = 0;
let stopped = false;

/** Makes the core file of `process` and prepares to write it; false when none can be made. */
export function openCoreFile(process: Process): bool {
  const dir = process.cwd;
  if (dir == null) return false;
  const found = lookupIn(dir, CORE_NAME, CORE_NAME_LENGTH);
  if (found < 0) return false;
  if (found > 0) {
    const old = changetype<Inode>(<u32>found);
    // Linux's unlink refuses a directory (EISDIR) and a mount point (EBUSY); the exclusive create then finds the name taken.
    const removable = !isDirectoryInode(old) && old.mounted == null;
    releaseInode(old);
    if (!removable || unlinkIn(dir, CORE_NAME, CORE_NAME_LENGTH) < 0) return false;
  }
  const made = createIn(dir, CORE_NAME, CORE_NAME_LENGTH, S_IFREG | (CORE_MODE & ~process.umask), 0);
  if (made <= 0) return false;
  file = changetype<Inode>(<u32>made);
  position = 0;
  pendingSkip = 0;
  written = 0;
  limit = softLimit(process, RLIMIT_CORE);
  stopped = false;
  return true;
}

/** Whether `count` more bytes may still be written: false (and no more writes) once RLIMIT_CORE would be passed. */
export function coreRoomFor(count: u64): bool {
  if (!stopped && written + count > limit) stopped = true;
  return !stopped;
}

/** Writes `count` bytes from kernel memory at `from`; false when refused (the dump is then over). */
export function emitCore(from: u32, count: u32): bool {
  if (!coreRoomFor(count)) return false;
  const at = position + pendingSkip;
  if (writeInode(changetype<Inode>(file), null, from, count, at) != <i64>count) {
    stopped = true;
    return false;
  }
  position = at + count;
  pendingSkip = 0;
  written += count;
  return true;
}

/** Leaves `count` bytes as a hole. */
export function skipCore(count: u64): void {
  pendingSkip += count;
}

/** The file offset the next write goes to. */
export function coreOffset(): u64 {
  return position + pendingSkip;
}

const ZERO_BYTE = <u32>memory.data(1);

/** Ends the file; a dump that ended in a hole gets its last byte written, so that its size covers the hole (Linux). */
export function closeCoreFile(): void {
  if (pendingSkip != 0) {
    pendingSkip--;
    emitCore(ZERO_BYTE, 1);
  }
  releaseInode(file);
  file = null;
}
