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
