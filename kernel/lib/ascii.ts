// Byte strings in memory compared with AssemblyScript string literals
// (ASCII), without making a managed string.

/** Whether the `length` bytes at `address` are exactly `s`. */
export function equalsAscii(address: usize, length: u32, s: string): bool {
  if (<u32>s.length != length) return false;
  for (let i: u32 = 0; i < length; i++) {
    if (<u32>load<u8>(address + i) != <u32>s.charCodeAt(i)) return false;
  }
  return true;
}

/** Whether the `length` bytes at `address` begin with `prefix`. */
export function startsWithAscii(address: usize, length: u32, prefix: string): bool {
  return length >= <u32>prefix.length && equalsAscii(address, <u32>prefix.length, prefix);
}

/** Writes the bytes of ASCII string `s` at `address` (no NUL); returns its length. */
export function storeAscii(address: usize, s: string): u32 {
  for (let i = 0; i < s.length; i++) store<u8>(address + i, <u8>s.charCodeAt(i));
  return <u32>s.length;
}
