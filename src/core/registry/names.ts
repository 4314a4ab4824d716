import { InputError } from '../../errors.js';
import { firstControl } from '../text.js';

/**
 * Names and tag values mlv writes to a registry. Another person's terminal shows them later
 * (`mlv show` on a shared registry), so control characters are refused before any request.
 */

/** A registered-model name: trimmed, not empty, no control characters. */
export function validateModelName(input: string, flag = '--name'): string {
  const name = input.trim();
  if (name === '') throw new InputError(`${flag} must not be empty`);
  refuseControl(name, flag);
  return name;
}

/** Throws an InputError (exit 2) naming `what` when `value` holds a control character. */
export function refuseControl(value: string, what: string): string {
  const c = firstControl(value);
  if (c) {
    throw new InputError(`${what} must not contain control characters (found ${c}), got ${JSON.stringify(value)}`, {
      code: 'MLV_CONTROL_CHARACTER',
    });
  }
  return value;
}
