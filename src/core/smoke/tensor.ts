/**
 * Tensors as plain data, independent of onnxruntime: what the smoke logic generates, validates
 * and compares. Type names are onnxruntime's (`float32`, `int64`, `bool`…).
 */

export type TensorType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'bool'
  | 'string';

export type TensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | string[];

/** A tensor's data in row-major order. bool is a Uint8Array of 0/1; float16 holds IEEE half bits. */
export interface HostTensor {
  type: TensorType;
  dims: number[];
  data: TensorData;
}

/** A dimension as declared: fixed, symbolic (named), or unknown (null). */
export type Dim = number | string | null;

/** A declared model input or output. `type` is null for non-tensor values (sequences, maps). */
export interface TensorSpec {
  name: string;
  type: TensorType | null;
  /** ONNX's type text, e.g. `tensor(float)` or `seq(map(int64,tensor(float)))`. */
  typeText: string;
  /** null when the model does not declare the rank. */
  shape: Dim[] | null;
}

export const FLOAT_TYPES: ReadonlySet<TensorType> = new Set(['float32', 'float64', 'float16']);
export const INT_TYPES: ReadonlySet<TensorType> = new Set([
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
]);

/** Inclusive value range of each integer type (as numbers; 64-bit limited to safe integers). */
export const INT_RANGE: Readonly<Record<string, readonly [number, number]>> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 4294967295],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** A zeroed data array of `type` with `n` elements. */
export function allocate(type: TensorType, n: number): TensorData {
  switch (type) {
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
    case 'float16':
      return new Uint16Array(n);
    case 'int8':
      return new Int8Array(n);
    case 'int16':
      return new Int16Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'int64':
      return new BigInt64Array(n);
    case 'uint8':
    case 'bool':
      return new Uint8Array(n);
    case 'uint16':
      return new Uint16Array(n);
    case 'uint32':
      return new Uint32Array(n);
    case 'uint64':
      return new BigUint64Array(n);
    case 'string':
      return new Array<string>(n).fill('');
  }
}

/** Element i as a number (bool → 0/1, float16 decoded, 64-bit ints via Number); NaN for strings. */
export function numberAt(t: HostTensor, i: number): number {
  const v = t.data[i];
  if (t.type === 'float16') return halfToFloat(v as number);
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') return Number.NaN;
  return v as number;
}

/** Element i as JSON: numbers, booleans, strings; non-finite floats as "NaN" / "Infinity" / "-Infinity". */
export function jsonAt(t: HostTensor, i: number): number | boolean | string {
  if (t.type === 'string') return (t.data as string[])[i]!;
  if (t.type === 'bool') return (t.data as Uint8Array)[i] !== 0;
  const x = numberAt(t, i);
  return Number.isFinite(x) ? x : String(x);
}

/** Row-major nested arrays of a tensor's values (a scalar for rank 0). */
export function toNested(t: HostTensor): unknown {
  let i = 0;
  const build = (axis: number): unknown => {
    if (axis === t.dims.length) return jsonAt(t, i++);
    const out: unknown[] = [];
    for (let k = 0; k < t.dims[axis]!; k++) out.push(build(axis + 1));
    return out;
  };
  return build(0);
}

/** "[N, 4]" — symbolic dims by name, unknown as "?"; "?" alone for unknown rank. */
export function formatShape(shape: readonly Dim[] | null): string {
  if (shape === null) return '?';
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/** "[1][3]" for flat index 7 of dims [2, 4]. */
export function formatIndex(dims: readonly number[], flat: number): string {
  if (dims.length === 0) return '[]';
  const idx: number[] = [];
  let rest = flat;
  for (let a = dims.length - 1; a >= 0; a--) {
    const d = dims[a]!;
    idx.unshift(d === 0 ? 0 : rest % d);
    rest = d === 0 ? 0 : Math.floor(rest / d);
  }
  return idx.map((k) => `[${k}]`).join('');
}

/** IEEE 754 binary16 bits → number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** number → IEEE 754 binary16 bits (round to nearest even via float32). */
export function floatToHalf(x: number): number {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  f[0] = x;
  const bits = u[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}
