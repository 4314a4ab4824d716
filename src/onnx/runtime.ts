import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import type { HostTensor, TensorType } from '../core/smoke/tensor.js';
import { InputError } from '../errors.js';

/**
 * onnxruntime-node behind a small surface: open a session (loaded lazily, never at CLI start-up),
 * run it on plain tensors, time runs. Runtime failures become one-line InputErrors naming the model.
 */

type Ort = typeof import('onnxruntime-node');
let ortModule: Promise<Ort> | undefined;

export function loadOrt(): Promise<Ort> {
  ortModule ??= import('onnxruntime-node').then((m) => ((m as { default?: Ort }).default ?? m) as Ort);
  return ortModule;
}

/** onnxruntime-node's version, for messages ("onnxruntime 1.23.2 does not implement …"). */
export function ortVersion(): string {
  try {
    return (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export interface OpenOptions {
  /** intra-op threads (`--threads`); onnxruntime's default (one per core) when undefined. */
  threads?: number | undefined;
}

export type Feeds = Record<string, Tensor>;

/** ORT logs at "error" level would print to stderr on every failed run; mlv reports errors itself. */
const QUIET = 4;

export class OnnxSession {
  private constructor(
    private readonly ort: Ort,
    private readonly session: InferenceSession,
    /** How the model is named in messages. */
    readonly label: string,
  ) {}

  static async open(file: string, label: string, opts: OpenOptions = {}): Promise<OnnxSession> {
    const ort = await loadOrt();
    try {
      const session = await ort.InferenceSession.create(file, {
        logSeverityLevel: QUIET,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        ...(opts.threads !== undefined ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {}),
      });
      return new OnnxSession(ort, session, label);
    } catch (err) {
      throw loadError(err, label);
    }
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** onnxruntime tensors for the inputs, made once and reused across runs. */
  feeds(tensors: Readonly<Record<string, HostTensor>>): Feeds {
    const feeds: Feeds = {};
    for (const [name, t] of Object.entries(tensors)) {
      feeds[name] = new this.ort.Tensor(t.type, t.data as never, t.dims);
    }
    return feeds;
  }

  /** One run; its outputs as plain tensors. */
  async run(feeds: Feeds): Promise<Record<string, HostTensor>> {
    const out = await this.runRaw(feeds);
    const result: Record<string, HostTensor> = {};
    for (const name of this.session.outputNames) {
      const t = out[name];
      if (t === undefined) continue;
      result[name] = { type: t.type as TensorType, dims: [...t.dims], data: t.data as HostTensor['data'] };
    }
    return result;
  }

  /** One run, timed: milliseconds inside `session.run`. */
  async time(feeds: Feeds): Promise<number> {
    const start = performance.now();
    await this.runRaw(feeds);
    return performance.now() - start;
  }

  private async runRaw(feeds: Feeds): Promise<InferenceSession.OnnxValueMapType> {
    try {
      return await this.session.run(feeds, { logSeverityLevel: QUIET });
    } catch (err) {
      const batch = Object.values(feeds)[0]?.dims[0];
      throw runError(err, this.label, batch);
    }
  }

  async release(): Promise<void> {
    await this.session.release().catch(() => undefined);
  }
}

/** The useful sentence of an onnxruntime message, without C++ file paths and signatures. */
export function cleanOrtMessage(message: string): string {
  let m = message.replace(/^Load model from .*? failed:/s, '');
  m = m.replace(/\s*Status Message:\s*/g, ': ');
  m = m.replace(/\/onnxruntime_src\/\S+:\d+\s+/g, '');
  // "void onnxruntime::Foo::Bar(const std::string&, int) " — the C++ signature ORT_ENFORCE prints.
  m = m.replace(/(?:\b[a-z_][\w<>:]*[&*]? )?\b[A-Za-z_]\w*::[\w:~]+\([^()]*\)\s*/g, '');
  // "size != 0 && (input_shape_size % size) == 0 was false. " — the failed assertion itself.
  m = m.replace(/[^:.]* was false\.\s*/, ' ');
  return m.replace(/\s+/g, ' ').trim();
}

function loadError(err: unknown, label: string): InputError {
  const raw = err instanceof Error ? err.message : String(err);
  const msg = cleanOrtMessage(raw);
  const version = ortVersion();
  let m = /No Op registered for (\S+) with domain_version of (\d+)/.exec(msg);
  if (m) {
    return new InputError(
      `${label} uses operator ${m[1]} (opset ${m[2]}), which onnxruntime ${version} does not implement`,
      {
        code: 'MLV_ONNX_UNSUPPORTED',
        hint: 'export the model with standard operators, or a custom-op library mlv cannot load',
      },
    );
  }
  m = /Opset (\d+) is under development.*?support for domain (\S+) is till opset (\d+)/s.exec(msg);
  if (m) {
    return new InputError(
      `${label} imports opset ${m[1]} of ${m[2]}, but onnxruntime ${version} supports up to opset ${m[3]}`,
      { code: 'MLV_ONNX_UNSUPPORTED', hint: `re-export the model with target opset ≤ ${m[3]}` },
    );
  }
  const type = String.raw`(\w+\([\w(),]*\)|[^()]*)`;
  m = new RegExp(
    String.raw`Type Error: Type \(${type}\) of output arg \((.+?)\) of node \((.*?)\) does not match expected type \(${type}\)`,
  ).exec(msg);
  if (m) {
    return new InputError(`${label} declares ${m[2]} as ${m[1]} but its node produces ${m[4]}`, {
      code: 'MLV_ONNX_INCONSISTENT',
    });
  }
  if (/Protobuf parsing failed/i.test(msg)) {
    return new InputError(`${label} is not a valid ONNX model: onnxruntime could not parse it`, {
      code: 'MLV_ONNX_INVALID',
    });
  }
  return new InputError(`${label} does not load in onnxruntime ${version}: ${msg}`, { code: 'MLV_ONNX_LOAD' });
}

function runError(err: unknown, label: string, batch: number | undefined): InputError {
  const raw = err instanceof Error ? err.message : String(err);
  const msg = cleanOrtMessage(raw);
  const rows = batch === undefined ? '' : ` on a batch of ${batch}`;
  if (/Non tensor type/i.test(msg)) {
    return new InputError(`${label} has a non-tensor output (sequence or map), which onnxruntime-node cannot return`, {
      code: 'MLV_ONNX_RUN',
      hint: 'export classifiers without ZipMap (skl2onnx: options={"zipmap": False})',
    });
  }
  return new InputError(`${label} failed at run time${rows}: ${msg}`, { code: 'MLV_ONNX_RUN' });
}
