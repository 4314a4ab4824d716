import type { OutStream } from './streams.js';
import type { Style } from './style.js';

export interface Spinner {
  update(text: string): void;
  succeed(text?: string): void;
  fail(text?: string): void;
  stop(): void;
}

const noop: Spinner = { update() {}, succeed() {}, fail() {}, stop() {} };

/**
 * A spinner on stderr when it is a TTY; otherwise nothing at all (CI logs stay clean).
 * ora is loaded only when a spinner is really drawn.
 */
export function makeSpinnerFactory(stream: OutStream, style: Style, enabled: boolean): (text: string) => Spinner {
  // A terminal that reports 0 columns (e.g. `script` without a size) makes ora loop in clear().
  const columns = (stream as OutStream & { columns?: number }).columns;
  if (!enabled || !stream.isTTY || !columns) return () => noop;
  return (text: string) => {
    let ora: import('ora').Ora | undefined;
    let stopped = false;
    let current = text;
    void import('ora').then(({ default: create }) => {
      if (stopped) return;
      ora = create({ text: current, stream: stream as NodeJS.WritableStream, color: 'cyan' }).start();
    });
    const finish = (mark: string, t?: string) => {
      stopped = true;
      ora?.stop();
      if (t !== undefined) stream.write(`${mark} ${t}\n`);
    };
    return {
      update(t) {
        current = t;
        if (ora) ora.text = t;
      },
      succeed: (t) => finish(style.pass, t),
      fail: (t) => finish(style.fail, t),
      stop: () => finish(''),
    };
  };
}
