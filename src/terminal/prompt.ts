import { InterruptedError, UsageError } from '../errors.js';
import { escapeControl } from './escape.js';

export interface Choice<T> {
  name: string;
  value: T;
  description?: string;
}

/**
 * Questions to the person at the terminal. When prompting is not allowed (piped, CI, --json,
 * --no-input) the non-interactive prompter throws a UsageError naming the flag to pass instead.
 */
export interface Prompter {
  confirm(message: string, opts: { default: boolean; flag: string }): Promise<boolean>;
  select<T>(message: string, choices: Choice<T>[], opts: { flag: string }): Promise<T>;
}

export const nonInteractivePrompter: Prompter = {
  confirm(message, opts) {
    return Promise.reject(
      new UsageError(`${message.replace(/\?$/, '')}: confirmation needed but not running interactively`, {
        hint: `pass ${opts.flag} to confirm`,
      }),
    );
  },
  select(message, _choices, opts) {
    return Promise.reject(new UsageError(`${message.replace(/[?:]$/, '')}: missing ${opts.flag}`));
  },
};

/**
 * Prompts on the run's own streams (the question goes to stderr, like every other word for the
 * person). Ctrl-C at a prompt (inquirer's ExitPromptError, or the abort of `signal`) is an
 * interrupt: exit 130. Choices name registry entries, so their text is escaped.
 * @inquirer/prompts is loaded only when a question is really asked.
 */
export function ttyPrompter(
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
  signal?: AbortSignal,
): Prompter {
  const context = { input, output, ...(signal ? { signal } : {}) };
  const interrupted = (err: unknown): never => {
    const name = (err as { name?: unknown } | null)?.name;
    if (name === 'ExitPromptError' || name === 'AbortPromptError') throw new InterruptedError();
    throw err;
  };
  return {
    async confirm(message, opts) {
      const { confirm } = await import('@inquirer/prompts');
      return confirm({ message: escapeControl(message), default: opts.default }, context).catch(interrupted);
    },
    async select(message, choices) {
      const { select } = await import('@inquirer/prompts');
      const safe = choices.map((c) => ({
        ...c,
        name: escapeControl(c.name),
        ...(c.description !== undefined ? { description: escapeControl(c.description) } : {}),
      }));
      return select({ message: escapeControl(message), choices: safe }, context).catch(interrupted);
    },
  };
}
