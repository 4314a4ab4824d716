import { parentPort } from 'node:worker_threads';
import type { HostTensor } from '../core/smoke/tensor.js';
import { OnnxSession } from '../onnx/runtime.js';

/**
 * One inference thread of `mlv serve --threads N`: holds its own onnxruntime sessions (one per
 * model version) and runs them on request, so a slow model never stalls the HTTP thread.
 */

export type WorkerRequest =
  | { op: 'open'; id: number; key: string; file: string; label: string }
  | { op: 'run'; id: number; key: string; feeds: Record<string, HostTensor> }
  | { op: 'close'; id: number; key: string };

/** Ends the thread once what it is doing is done (never inside a run: see WorkerPool.close). */
export interface WorkerExit {
  op: 'exit';
}

export type WorkerReply =
  | { id: number; ok: true; outputs?: Record<string, HostTensor> }
  | { id: number; ok: false; error: string; code?: string };

const sessions = new Map<string, OnnxSession>();
const port = parentPort!;

const transferables = (tensors: Record<string, HostTensor>): ArrayBuffer[] =>
  Object.values(tensors)
    .map((t) => (Array.isArray(t.data) ? undefined : (t.data.buffer as ArrayBuffer)))
    .filter((b): b is ArrayBuffer => b !== undefined);

let active = 0;
let exiting = false;

port.on('message', (msg: WorkerRequest | WorkerExit) => {
  if (msg.op === 'exit') {
    exiting = true;
    return void exitWhenIdle();
  }
  active++;
  void handle(msg)
    .then(
      (reply) => port.postMessage(reply, reply.ok && reply.outputs ? transferables(reply.outputs) : []),
      (err: Error & { code?: string }) =>
        port.postMessage({ id: msg.id, ok: false, error: err.message, code: err.code } satisfies WorkerReply),
    )
    .finally(() => {
      active--;
      void exitWhenIdle();
    });
});

/** Releases the sessions and lets the thread end (closing the port empties its event loop). */
async function exitWhenIdle(): Promise<void> {
  if (!exiting || active > 0) return;
  exiting = false;
  await Promise.all([...sessions.values()].map((s) => s.release()));
  sessions.clear();
  port.close();
}

async function handle(msg: WorkerRequest): Promise<WorkerReply> {
  switch (msg.op) {
    case 'open': {
      if (!sessions.has(msg.key)) sessions.set(msg.key, await OnnxSession.open(msg.file, msg.label, { threads: 1 }));
      return { id: msg.id, ok: true };
    }
    case 'run': {
      const session = sessions.get(msg.key);
      if (!session) throw new Error(`model ${msg.key} is not open in this worker`);
      const outputs = await session.run(session.feeds(msg.feeds));
      // onnxruntime's output arrays may view a shared buffer: copy them so they can be transferred.
      for (const t of Object.values(outputs)) if (!Array.isArray(t.data)) t.data = t.data.slice() as never;
      return { id: msg.id, ok: true, outputs };
    }
    case 'close': {
      await sessions.get(msg.key)?.release();
      sessions.delete(msg.key);
      return { id: msg.id, ok: true };
    }
  }
}
