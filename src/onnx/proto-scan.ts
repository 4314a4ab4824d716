import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * Reads an ONNX file's structure without its weights. A ModelProto is mostly initializer bytes
 * (raw_data of graph.initializer); this walks the protobuf wire format with positional reads and
 * rebuilds a small ModelProto in which every initializer keeps only its name, dims and data type.
 * protobufjs then decodes that as usual, so a 1 GB model costs a few kilobytes of memory to
 * describe instead of a copy of the whole file.
 *
 * Wire format (protobuf encoding spec): each field is a varint key (field number << 3 | wire
 * type) followed by a varint (type 0), 8 bytes (1), a varint length and that many bytes (2), or
 * 4 bytes (5). Groups (3, 4) do not occur in onnx.proto.
 */

/** A field that cannot be read: the message is cut short or is not protobuf. */
export class WireError extends Error {
  constructor(
    message: string,
    readonly truncated: boolean,
  ) {
    super(message);
  }
}

const CHUNK = 64 * 1024;

class FileBytes {
  private buf = Buffer.alloc(CHUNK);
  private bufStart = 0;
  private bufEnd = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  private fill(pos: number): void {
    this.bufStart = pos;
    this.bufEnd = pos + readSync(this.fd, this.buf, 0, CHUNK, pos);
  }

  byte(pos: number): number {
    if (pos >= this.size) throw new WireError(`index out of range: ${pos} + 1 > ${this.size}`, true);
    if (pos < this.bufStart || pos >= this.bufEnd) this.fill(pos);
    return this.buf[pos - this.bufStart]!;
  }

  bytes(pos: number, n: number): Buffer {
    if (pos + n > this.size) throw new WireError(`index out of range: ${pos} + ${n} > ${this.size}`, true);
    if (pos >= this.bufStart && pos + n <= this.bufEnd)
      return Buffer.from(this.buf.subarray(pos - this.bufStart, pos - this.bufStart + n));
    const out = Buffer.alloc(n);
    let done = 0;
    while (done < n) {
      const got = readSync(this.fd, out, done, n - done, pos + done);
      if (got === 0) throw new WireError(`index out of range: ${pos} + ${n} > ${this.size}`, true);
      done += got;
    }
    return out;
  }

  /** A varint at `pos`: its value (exact to 2^53) and the position after it. */
  varint(pos: number): [number, number] {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte(pos + i);
      value += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) return [value, pos + i + 1];
    }
    throw new WireError(`invalid varint at offset ${pos}`, false);
  }
}

interface Field {
  number: number;
  wire: number;
  /** Where the key starts and where the whole field ends. */
  start: number;
  end: number;
  /** For length-delimited fields: where the payload starts. */
  payload: number;
}

/** The fields of the message occupying [from, to), in order. */
function* fields(src: FileBytes, from: number, to: number): Generator<Field> {
  let pos = from;
  while (pos < to) {
    const start = pos;
    const [key, afterKey] = src.varint(pos);
    const number = Math.floor(key / 8);
    const wire = key % 8;
    if (number === 0) throw new WireError(`invalid field number 0 at offset ${start}`, false);
    let end: number;
    let payload = afterKey;
    switch (wire) {
      case 0:
        end = src.varint(afterKey)[1];
        break;
      case 1:
        end = afterKey + 8;
        break;
      case 2: {
        const [len, afterLen] = src.varint(afterKey);
        payload = afterLen;
        end = afterLen + len;
        break;
      }
      case 5:
        end = afterKey + 4;
        break;
      default:
        throw new WireError(`invalid wire type ${wire} at offset ${start}`, false);
    }
    if (end > to) throw new WireError(`index out of range: ${payload} + ${end - payload} > ${to}`, true);
    pos = end;
    yield { number, wire, start, end, payload };
  }
}

function varintBytes(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v >= 128) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

function lengthDelimited(number: number, payload: Buffer[]): Buffer[] {
  const len = payload.reduce((n, b) => n + b.length, 0);
  return [varintBytes(number * 8 + 2), varintBytes(len), ...payload];
}

const copy = (src: FileBytes, f: Field) => src.bytes(f.start, f.end - f.start);

// onnx.proto field numbers
const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const GRAPH_SPARSE_INITIALIZER = 15;
const TENSOR_KEEP = new Set([1, 2, 8]); // dims, data_type, name
const SPARSE_VALUES = 1;
const SPARSE_DIMS = 3;

/** A TensorProto with only dims, data type and name: the weights themselves are dropped. */
function slimTensor(src: FileBytes, from: number, to: number): Buffer[] {
  const out: Buffer[] = [];
  for (const f of fields(src, from, to)) if (TENSOR_KEEP.has(f.number)) out.push(copy(src, f));
  return out;
}

function slimSparse(src: FileBytes, from: number, to: number): Buffer[] {
  const out: Buffer[] = [];
  for (const f of fields(src, from, to)) {
    if (f.number === SPARSE_VALUES && f.wire === 2)
      out.push(...lengthDelimited(SPARSE_VALUES, slimTensor(src, f.payload, f.end)));
    else if (f.number === SPARSE_DIMS) out.push(copy(src, f));
  }
  return out;
}

function slimGraph(src: FileBytes, from: number, to: number): Buffer[] {
  const out: Buffer[] = [];
  for (const f of fields(src, from, to)) {
    if (f.number === GRAPH_INITIALIZER && f.wire === 2)
      out.push(...lengthDelimited(GRAPH_INITIALIZER, slimTensor(src, f.payload, f.end)));
    else if (f.number === GRAPH_SPARSE_INITIALIZER && f.wire === 2)
      out.push(...lengthDelimited(GRAPH_SPARSE_INITIALIZER, slimSparse(src, f.payload, f.end)));
    else out.push(copy(src, f));
  }
  return out;
}

/**
 * The ModelProto in `file` re-encoded without initializer data. Throws WireError when the bytes
 * are not a protobuf message or stop early.
 */
export function readModelSkeleton(file: string): { bytes: Uint8Array; head: Buffer; size: number } {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const src = new FileBytes(fd, size);
    const head = size === 0 ? Buffer.alloc(0) : src.bytes(0, Math.min(size, 512));
    const out: Buffer[] = [];
    for (const f of fields(src, 0, size)) {
      if (f.number === MODEL_GRAPH && f.wire === 2)
        out.push(...lengthDelimited(MODEL_GRAPH, slimGraph(src, f.payload, f.end)));
      else out.push(copy(src, f));
    }
    return { bytes: Buffer.concat(out), head, size };
  } finally {
    closeSync(fd);
  }
}
