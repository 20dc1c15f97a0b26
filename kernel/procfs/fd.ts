// /proc/PID/fd: one link per open descriptor, named by its number, with
// Linux's modes (r-x for reading, -wx for writing). readlink says what
// the descriptor is: the file's path (" (deleted)" once it has no name),
// "pipe:[INO]" for either end of a pipe (INO is fstat's st_ino), or
// /dev/console for the console. A walk through a link goes to the
// descriptor's inode, so open() opens that file anew with its own flags,
// as on Linux. A pipe has no inode here: its link leads to an FdPipe
// inode standing for it, and opening that makes a new end of the same
// pipe (O_RDWR, which one File here cannot be, gives the descriptor's end).
import { formatInto } from "../lib/format";
import { storeAscii } from "../lib/ascii";
import { File, FileKind, O_ACCMODE, O_RDWR, O_WRONLY, anonymousName, fileAt, isPipeFile, newFile } from "../fs/file";
import { EmitEntry, Inode, S_IFLNK, retainInode } from "../fs/inode";
import { PATH_MAX } from "../fs/path";
import { PIPE_DEVICE, Pipe, pipeInodeNumber } from "../fs/pipe";
import { liveProcess, writeInodePath } from "./links";
import { Node, inodeNumber, isProcInode, makeNamedNode, parseDecimal } from "./nodes";

const ENOENT: i64 = 2;
const ENXIO: i64 = 6;
const ENOMEM: i64 = 12;
const CONSOLE_PATH = "/dev/console"; // the node the console's descriptors stand for
const FIRST_DESCRIPTOR_POSITION: u64 = 2; // readdir: after "." and ".."

/** An anonymous pipe's end ("pipe:[N]"); a FIFO's ends are its inode's, whose path they show. */
@inline function isPipe(file: File): bool {
  return isPipeFile(file) && file.inode == null;
}

@inline function descriptorInodeNumber(pid: u32, fd: u32): u64 {
  return inodeNumber(Node.FdLink, pid) | (<u64>(fd + 1) << 32);
}

/** Linux's mode for a descriptor's link: read and search for reading, write and search for writing, neither for O_PATH. */
function linkPermissions(file: File): u32 {
  if (file.kind == FileKind.PathOnly) return 0;
  const mode = file.flags & O_ACCMODE;
  const reading = mode == 0 || mode == O_RDWR;
  const writing = mode == O_WRONLY || mode == O_RDWR;
  return (reading ? 0o500 : 0) | (writing ? 0o300 : 0);
}

/** The File behind descriptor link (or FdPipe inode) `inode`, or null: closed since, or its process has exited. */
function fileOf(inode: Inode): File | null {
  const process = liveProcess(inode);
  return process == null ? null : fileAt(process.files, inode.index);
}

export function lookupDescriptor(dir: Inode, name: u32, length: u32): i64 {
  const fd = parseDecimal(name, length);
  const process = liveProcess(dir);
  if (fd < 0 || process == null) return 0;
  const file = fileAt(process.files, fd);
  if (file == null) return 0;
  const made = makeNamedNode(Node.FdLink, dir.data, dir, name, length);
  if (made < 0) return made;
  const link = changetype<Inode>(<u32>made);
  link.index = <u32>fd;
  link.ino = descriptorInodeNumber(dir.data, <u32>fd);
  link.mode = S_IFLNK | linkPermissions(file);
  return made;
}

/** Positions: 2 + N for descriptor N (procfs's readdir emits "." and ".." before). */
export function readDescriptors(dir: Inode, cursor: u64, emit: EmitEntry, context: u32): i64 {
  const process = liveProcess(dir);
  if (process == null) return <i64>cursor;
  const table = process.files;
  const digits = memory.data(12);
  for (let fd = cursor - FIRST_DESCRIPTOR_POSITION; fd < <u64>table.capacity; fd++) {
    if (fileAt(table, <i64>fd) == null) continue;
    const length = formatInto(<u32>digits, 12, "%d", fd);
    const next = fd + FIRST_DESCRIPTOR_POSITION + 1;
    if (!emit(context, descriptorInodeNumber(dir.data, <u32>fd), S_IFLNK, <u32>digits, length, next)) {
      return <i64>(fd + FIRST_DESCRIPTOR_POSITION);
    }
  }
  return <i64>(FIRST_DESCRIPTOR_POSITION + <u64>table.capacity);
}

/** What readlink says of an open file, at `into` (PATH_MAX room); its length. */
function describeFile(file: File, into: u32): u32 {
  if (isPipe(file)) return formatInto(into, PATH_MAX, "pipe:[%d]", pipeInodeNumber(changetype<Pipe>(file.data)));
  if (file.kind == FileKind.Console) return storeAscii(into, CONSOLE_PATH);
  const anonymous = anonymousName(file);
  if (anonymous != null) return storeAscii(into, anonymous);
  const inode = changetype<Inode>(file.inode);
  if (isProcInode(inode) && inode.kind == Node.FdPipe) return formatInto(into, PATH_MAX, "pipe:[%d]", inode.ino);
  return writeInodePath(inode, into);
}

export function readDescriptorLink(link: Inode, into: u32): i64 {
  const file = fileOf(link);
  return file == null ? -ENOENT : <i64>describeFile(file, into);
}

export function jumpDescriptorLink(link: Inode): i64 {
  const file = fileOf(link);
  if (file == null) return -ENOENT;
  if (file.inode != null) return <i64>changetype<u32>(retainInode(changetype<Inode>(file.inode)));
  if (file.kind == FileKind.Console) return 0; // the walk follows CONSOLE_PATH to its node
  if (anonymousName(file) != null) return -ENXIO; // Linux's anonymous inode cannot be opened again
  const made = makeNamedNode(Node.FdPipe, link.data, changetype<Inode>(link.parent), 0, 0);
  if (made < 0) return made;
  const standIn = changetype<Inode>(<u32>made);
  standIn.index = link.index;
  standIn.ino = pipeInodeNumber(changetype<Pipe>(file.data)); // fstat of either end says the same
  standIn.device = PIPE_DEVICE;
  return made;
}

/**
 * open() of an FdPipe inode: a new end of its pipe, reading or writing as
 * `flags` ask, with their status flags. ENXIO once the descriptor no
 * longer holds that pipe. Returns the File's address or -errno.
 */
export function openDescriptorPipe(standIn: Inode, flags: u32): i64 {
  const file = fileOf(standIn);
  if (file == null || !isPipe(file) || pipeInodeNumber(changetype<Pipe>(file.data)) != standIn.ino) return -ENXIO;
  const mode = flags & O_ACCMODE;
  const writer = mode == O_WRONLY || (mode == O_RDWR && file.kind == FileKind.PipeWrite);
  const end = newFile(writer ? FileKind.PipeWrite : FileKind.PipeRead, null, (writer ? O_WRONLY : 0) | (flags & ~O_ACCMODE));
  if (end == null) return -ENOMEM;
  const pipe = changetype<Pipe>(file.data);
  end.data = changetype<u32>(pipe);
  if (writer) pipe.writers++;
  else pipe.readers++;
  return <i64>changetype<u32>(end);
}
