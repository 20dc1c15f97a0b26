// Reads function names out of a wasm module: the "name" custom section
// (asc --debug keeps it) and the export section.

function readLeb(bytes, at) {
  let value = 0, shift = 0, byte;
  do {
    byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [value, at];
}

/**
 * Function names from the wasm "name" custom section (subsection 1), and
 * exported function names with the index of the function they export.
 */
export function wasmFunctionNames(bytes) {
  const names = [];
  const exports = [];
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at++];
    let size;
    [size, at] = readLeb(bytes, at);
    const end = at + size;
    if (id === 7) {
      let count, p = at;
      [count, p] = readLeb(bytes, p);
      for (let i = 0; i < count; i++) {
        let length, index;
        [length, p] = readLeb(bytes, p);
        const name = Buffer.from(bytes.subarray(p, p + length)).toString();
        const kind = bytes[p + length];
        [index, p] = readLeb(bytes, p + length + 1);
        if (kind === 0) exports.push({ name, index });
      }
    } else if (id === 0) {
      let nameLength;
      let p;
      [nameLength, p] = readLeb(bytes, at);
      const sectionName = Buffer.from(bytes.subarray(p, p + nameLength)).toString();
      p += nameLength;
      if (sectionName === "name") {
        while (p < end) {
          const sub = bytes[p++];
          let subSize;
          [subSize, p] = readLeb(bytes, p);
          if (sub === 1) {
            let count, q = p;
            [count, q] = readLeb(bytes, q);
            for (let i = 0; i < count; i++) {
              let index, length;
              [index, q] = readLeb(bytes, q);
              [length, q] = readLeb(bytes, q);
              names[index] = (Buffer.from(bytes.subarray(q, q + length)).toString());
              q += length;
            }
          }
          p += subSize;
        }
      }
    }
    at = end;
  }
  return { names, exports };
}

