import { UsageError } from '../errors.js';

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

/** @inquirer/prompts is loaded only when a question is really asked. */
export const ttyPrompter: Prompter = {
  async confirm(message, opts) {
    const { confirm } = await import('@inquirer/prompts');
    return confirm({ message, default: opts.default }, { output: process.stderr });
  },
  async select(message, choices) {
    const { select } = await import('@inquirer/prompts');
    return select({ message, choices }, { output: process.stderr });
  },
};
