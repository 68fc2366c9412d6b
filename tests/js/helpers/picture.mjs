// What picture bytes are, read from their headers only, independently of the product's
// code: a PNG's IHDR, a JPEG's first SOFn segment (baseline C0, progressive C2, ...).

/** {format, width?, height?} of picture bytes: the SOF header of a JPEG, the IHDR of a PNG. */
export function pictureInfo(buf) {
  if (buf[0] === 0x89 && buf.toString('latin1', 1, 4) === 'PNG') {
    return { format: 'png', width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
  }
  if (!(buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff)) return { format: 'unknown' };
  let i = 2;
  while (i + 9 <= buf.length) {
    if (buf[i] !== 0xff) throw new Error(`bad JPEG marker at ${i}`);
    const m = buf[i + 1];
    if (m === 0xff) { i++; continue; } // fill byte
    if (m === 0x01 || (m >= 0xd0 && m <= 0xd8)) { i += 2; continue; } // no length
    // SOFn (not DHT C4, JPG C8, DAC CC): FF Cn, length, precision, height, width
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      return { format: 'jpeg', height: buf.readUInt16BE(i + 5), width: buf.readUInt16BE(i + 7) };
    }
    i += 2 + buf.readUInt16BE(i + 2);
  }
  throw new Error('JPEG without a SOF marker');
}
