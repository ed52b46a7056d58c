/** Byte helpers shared by the Worker parts (pure). */

/**
 * The parts joined into one new array (`total` = their summed length, when the caller counted it
 * already).
 */
export function concatBytes(parts: readonly Uint8Array[], total = -1): Uint8Array<ArrayBuffer> {
  let n = total;
  if (n < 0) {
    n = 0;
    for (const p of parts) n += p.byteLength;
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
