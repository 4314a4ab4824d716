import { InputError } from '../../errors.js';
import { mulberry32, normal } from './random.js';
import { allocate, elementCount, floatToHalf, type HostTensor, type TensorSpec } from './tensor.js';

/** Size given to a symbolic dimension that is not a batch axis and not set by `--dim`. */
export const DEFAULT_SYMBOLIC_DIM = 8;
/** Generated integers are uniform in [0, INT_CEILING): valid indices for small lookup tables. */
export const INT_CEILING = 10;
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'];

export interface ShapeOptions {
  /** Size of batch axes: axis 0 of any input when it is symbolic or unknown. */
  batch: number;
  /** Sizes for named symbolic dimensions (`--dim seq=16`); they win over `batch`. */
  dims?: Readonly<Record<string, number>>;
}

/**
 * Concrete shapes for the model's inputs. A symbolic or unknown axis 0 is the batch axis; a
 * symbol used at axis 0 anywhere is the batch everywhere; other symbols get `dims[name]` or
 * DEFAULT_SYMBOLIC_DIM, the same value wherever the same name appears.
 */
export function resolveInputShapes(specs: readonly TensorSpec[], opts: ShapeOptions): Record<string, number[]> {
  const bound = new Map<string, number>(Object.entries(opts.dims ?? {}));
  for (const s of specs) {
    const d0 = s.shape?.[0];
    if (typeof d0 === 'string' && !bound.has(d0)) bound.set(d0, opts.batch);
  }
  const shapes: Record<string, number[]> = {};
  for (const s of specs) {
    if (s.type === null) {
      throw new InputError(`input "${s.name}" is ${s.typeText}, not a tensor: mlv smoke cannot generate it`, {
        hint: 'pass --input FILE with values for it',
      });
    }
    if (s.shape === null) {
      throw new InputError(`input "${s.name}" has no declared shape, so mlv smoke cannot generate it`, {
        hint: 'pass --input FILE with values for it',
      });
    }
    shapes[s.name] = s.shape.map((d, axis) => {
      if (typeof d === 'number') return d;
      if (typeof d === 'string') {
        if (!bound.has(d)) bound.set(d, DEFAULT_SYMBOLIC_DIM);
        return bound.get(d)!;
      }
      return axis === 0 ? opts.batch : DEFAULT_SYMBOLIC_DIM;
    });
  }
  return shapes;
}

/**
 * Deterministic inputs from a seed, one mulberry32 stream across the inputs in declaration
 * order: floats are standard normal, integers uniform in [0, INT_CEILING), bools fair coins,
 * strings drawn from a small word list.
 */
export function generateInputs(
  specs: readonly TensorSpec[],
  opts: ShapeOptions & { seed: number },
): Record<string, HostTensor> {
  const shapes = resolveInputShapes(specs, opts);
  const uniform = mulberry32(opts.seed);
  const gauss = normal(uniform);
  const out: Record<string, HostTensor> = {};
  for (const s of specs) {
    const type = s.type!;
    const dims = shapes[s.name]!;
    const n = elementCount(dims);
    const data = allocate(type, n);
    for (let i = 0; i < n; i++) {
      switch (type) {
        case 'float32':
        case 'float64':
          (data as Float32Array | Float64Array)[i] = gauss();
          break;
        case 'float16':
          (data as Uint16Array)[i] = floatToHalf(gauss());
          break;
        case 'bool':
          (data as Uint8Array)[i] = uniform() < 0.5 ? 1 : 0;
          break;
        case 'string':
          (data as string[])[i] = WORDS[Math.floor(uniform() * WORDS.length)]!;
          break;
        case 'int64':
          (data as BigInt64Array)[i] = BigInt(Math.floor(uniform() * INT_CEILING));
          break;
        case 'uint64':
          (data as BigUint64Array)[i] = BigInt(Math.floor(uniform() * INT_CEILING));
          break;
        default:
          (data as Int32Array)[i] = Math.floor(uniform() * INT_CEILING);
      }
    }
    out[s.name] = { type, dims, data };
  }
  return out;
}
