// Named pipes (FIFOs): an S_IFIFO inode on any file system. Opening one
// gives an end of a pipe that everyone who has it open shares
// (Inode.pipe), made at the first open and freed at the last close, as
// Linux's fifo_open: a reader's open waits for a writer and a writer's for a
// reader (with O_NONBLOCK the reader goes on at once and the writer gets
// ENXIO while there is no reader); O_RDWR holds both ends and waits for no
// one. A wait ends early with EINTR when a signal comes.
import { signalPending, sleepOn } from "../lib/wait";
import { FileKind, O_ACCMODE, O_NONBLOCK, O_RDONLY, O_WRONLY, newFile, releaseFile } from "./file";
import { Inode, retainInode } from "./inode";
import { Pipe, changed, closePipeEnds, newPipe } from "./pipe";

const ENXIO: i64 = 6;
const ENOMEM: i64 = 12;
const EINTR: i64 = 4;

/** Sleeps until `opens` (the partner's open counter) moves past `seen`; false when a signal cut it short. */
function waitForPartner(pipe: Pipe, writers: bool, seen: u32): bool {
  while ((writers ? pipe.writerOpens : pipe.readerOpens) == seen) {
    if (signalPending()) return false;
    sleepOn(changetype<u32>(pipe));
  }
  return true;
}

/**
 * Opens FIFO `inode`: the File's address (it takes over the caller's hold
 * on the inode), or -ENXIO, -EINTR, -ENOMEM (the hold then still the
 * caller's).
 */
export function openFifo(inode: Inode, flags: u32): i64 {
  const mode = flags & O_ACCMODE;
  const nonblocking = (flags & O_NONBLOCK) != 0;
  let pipe = inode.pipe != 0 ? changetype<Pipe>(inode.pipe) : null;
  if (mode == O_WRONLY && nonblocking && (pipe == null || pipe.readers == 0)) return -ENXIO;
  if (pipe == null) {
    pipe = newPipe(0);
    if (pipe == null) return -ENOMEM;
    inode.pipe = changetype<u32>(pipe);
  }
  const file = newFile(mode == O_WRONLY ? FileKind.PipeWrite : FileKind.PipeRead, inode, flags);
  if (file == null) {
    if (closePipeEnds(pipe, false, false)) inode.pipe = 0; // a pipe just made, with no end yet: it goes
    return -ENOMEM;
  }
  file.data = changetype<u32>(pipe);
  // The ends are counted as soon as the File exists: from here on, closing the File undoes them.
  if (mode != O_WRONLY) {
    pipe.readers++;
    pipe.readerOpens++;
  }
  if (mode != O_RDONLY) {
    pipe.writers++;
    pipe.writerOpens++;
  }
  changed(pipe);
  let waited = true;
  if (mode == O_RDONLY && !nonblocking && pipe.writers == 0) waited = waitForPartner(pipe, true, pipe.writerOpens);
  if (mode == O_WRONLY && pipe.readers == 0) waited = waitForPartner(pipe, false, pipe.readerOpens);
  if (!waited) {
    retainInode(inode); // closing the File lets go of a hold: the caller's stays
    releaseFile(file);
    return -EINTR;
  }
  return <i64>changetype<u32>(file);
}
