/** Byte helpers shared by the scanners and the unit table. */

export function bytesEqual(x: Uint8Array, xa: number, y: Uint8Array, ya: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (x[xa + i] !== y[ya + i]) return false;
  return true;
}

export function fnv1a(buf: Uint8Array, a: number, b: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = a; i < b; i++) h = Math.imul(h ^ buf[i]!, 16777619);
  return h;
}

/** The UTF-8 text of buf[a, b). */
export function text(buf: Uint8Array, a: number, b: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + a, b - a).toString('utf8');
}

export function growInt32(a: Int32Array, cap: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(cap);
  b.set(a);
  return b;
}
