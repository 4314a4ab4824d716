import { InputError } from '../../errors.js';
import { toTensor } from './records.js';
import {
  elementCount,
  FLOAT_TYPES,
  formatShape,
  INT_TYPES,
  toNested,
  type HostTensor,
  type TensorType,
} from './tensor.js';

/**
 * The `--save-outputs` / `--expect-outputs` file: the inputs used and the outputs they gave, so a
 * golden file replays by itself. Non-finite floats are written as "NaN", "Infinity", "-Infinity".
 */
export const GOLDEN_FORMAT = 'mlv-smoke-outputs/1';

export interface GoldenTensor {
  type: TensorType;
  shape: number[];
  data: unknown;
}

export interface GoldenFile {
  format: typeof GOLDEN_FORMAT;
  model: string;
  sha256: string;
  inputs: Record<string, GoldenTensor>;
  outputs: Record<string, GoldenTensor>;
}

export function encodeTensors(tensors: Readonly<Record<string, HostTensor>>): Record<string, GoldenTensor> {
  const out: Record<string, GoldenTensor> = {};
  for (const [name, t] of Object.entries(tensors)) out[name] = { type: t.type, shape: t.dims, data: toNested(t) };
  return out;
}

/** The tensor types a golden file may hold: those smoke can feed and compare. */
const TYPES: ReadonlySet<string> = new Set<string>([...FLOAT_TYPES, ...INT_TYPES, 'bool', 'string']);

/** Reads the tensors of a golden file section back, validating each against its own header. */
export function decodeTensors(section: unknown, label: string): Record<string, HostTensor> {
  if (typeof section !== 'object' || section === null || Array.isArray(section)) {
    throw new InputError(`${label} is not an mlv smoke outputs file (expected an object of tensors)`);
  }
  const out: Record<string, HostTensor> = {};
  for (const [name, raw] of Object.entries(section)) {
    const g = raw as Partial<GoldenTensor>;
    if (typeof g !== 'object' || g === null || !TYPES.has(String(g.type)) || !Array.isArray(g.shape)) {
      throw new InputError(`${label}: "${name}" needs "type", "shape" and "data"`);
    }
    const type = g.type as TensorType;
    // Non-finite floats were written as strings; turn them back into numbers before validating.
    const data = type.startsWith('float') ? revive(g.data) : g.data;
    const t = toTensor(data, { name, type, typeText: `tensor(${type})`, shape: g.shape as number[] }, label);
    if (elementCount(t.dims) !== elementCount(g.shape as number[])) {
      throw new InputError(
        `${label}: "${name}" has ${formatShape(t.dims)} values for shape ${formatShape(g.shape as number[])}`,
      );
    }
    out[name] = t;
  }
  return out;
}

function revive(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(revive);
  if (v === 'NaN') return Number.NaN;
  if (v === 'Infinity') return Number.POSITIVE_INFINITY;
  if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
  return v;
}

/**
 * A golden file's expected outputs, and its inputs as an `{"inputs": {…}}` document (validated
 * against the model like any --input file), or null when it recorded none.
 */
export function parseGoldenFile(
  doc: unknown,
  label: string,
): { outputs: Record<string, HostTensor>; inputsDocument: { inputs: Record<string, unknown> } | null; model: string } {
  const d = doc as Partial<GoldenFile> | null;
  if (typeof d !== 'object' || d === null || d.format !== GOLDEN_FORMAT) {
    throw new InputError(`${label} is not an mlv smoke outputs file (no "format": "${GOLDEN_FORMAT}")`, {
      hint: 'write one with mlv smoke MODEL --save-outputs FILE',
    });
  }
  let inputsDocument: { inputs: Record<string, unknown> } | null = null;
  if (typeof d.inputs === 'object' && d.inputs !== null && Object.keys(d.inputs).length > 0) {
    const inputs: Record<string, unknown> = {};
    for (const [name, g] of Object.entries(d.inputs)) inputs[name] = revive((g as Partial<GoldenTensor>)?.data);
    inputsDocument = { inputs };
  }
  return { model: String(d.model ?? ''), outputs: decodeTensors(d.outputs ?? {}, `${label} outputs`), inputsDocument };
}
