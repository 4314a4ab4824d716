import { InputError } from '../errors.js';

/** How inputs are named in messages and how their failures read (see input.ts). */

/** How an input is named in messages and results: `<stdin>` for `-`, else the path as given. */
export function inputName(file: string): string {
  return file === '-' ? '<stdin>' : file;
}

/** Gzip's magic number. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The one-line InputError for a failure reading `file` (an fs error, a zlib error, or other). */
export function inputError(what: string, file: string, err: unknown): InputError {
  if (err instanceof InputError) return err;
  const e = err as NodeJS.ErrnoException;
  const at = `${what} ${inputName(file)}`;
  const why = {
    ENOENT: 'no such file',
    ENOTDIR: 'no such file',
    EISDIR: 'is a directory',
    EACCES: 'permission denied',
  }[e.code ?? ''];
  if (why !== undefined) return new InputError(`${at}: ${why}`);
  if (
    e.code === 'Z_DATA_ERROR' ||
    e.code === 'Z_BUF_ERROR' ||
    /unexpected end of file|incorrect header/i.test(e.message ?? '')
  ) {
    return new InputError(`${at}: corrupt gzip data (${e.message})`);
  }
  return new InputError(`${at}: ${e.message ?? String(err)}`, { cause: err });
}
