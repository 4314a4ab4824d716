/**
 * What JSON.parse does not say about a text: how deep it nests, and whether an object repeats a
 * key (JSON.parse silently keeps the last). Deep nesting is refused before parsing because
 * everything that walks a parsed value recursively (flattening, JSON.stringify, error messages)
 * would overflow the stack on it.
 */

/** Deepest nesting mlv accepts in a JSON input (metrics files, request bodies); MLflow's are 3–4 deep. */
export const MAX_JSON_DEPTH = 64;

export type JsonProblem =
  | { kind: 'too-deep'; depth: number }
  /** `path` is the dotted path of the object holding `key` ('' for the top level). */
  | { kind: 'duplicate-key'; key: string; path: string };

/**
 * One pass over JSON text (assumed to be JSON; anything else is left for JSON.parse to report):
 * the first problem found, or undefined. Stops as soon as the nesting passes `maxDepth`.
 * @example jsonProblem('{"auc": 1, "auc": 2}') // { kind: 'duplicate-key', key: 'auc', path: '' }
 */
export function jsonProblem(text: string, maxDepth = MAX_JSON_DEPTH): JsonProblem | undefined {
  // One frame per open container: objects remember their keys and whether a key comes next.
  const frames: { keys: Set<string> | undefined; expectKey: boolean; name: string }[] = [];
  let pendingKey = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      const top = frames[frames.length - 1];
      if (top?.keys && top.expectKey) {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, j + 1)) as string;
        } catch {
          return undefined;
        }
        if (top.keys.has(key)) return { kind: 'duplicate-key', key, path: frames.map((f) => f.name).join('') };
        top.keys.add(key);
        top.expectKey = false;
        pendingKey = key;
      }
      i = j;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const parent = frames[frames.length - 1];
      const name = parent === undefined ? '' : parent.keys ? `${frames.length > 1 ? '.' : ''}${pendingKey}` : '[]';
      frames.push({ keys: c === 0x7b ? new Set() : undefined, expectKey: c === 0x7b, name });
      if (frames.length > maxDepth) return { kind: 'too-deep', depth: frames.length };
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      frames.pop();
    } else if (c === 0x2c /* , */) {
      const top = frames[frames.length - 1];
      if (top?.keys) top.expectKey = true;
    }
  }
  return undefined;
}

/** True when JSON text nests deeper than `maxDepth` (the cheap half of jsonProblem, for request bodies). */
export function jsonTooDeep(text: string, maxDepth = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i++;
      while (i < text.length && text.charCodeAt(i) !== 0x22) i += text.charCodeAt(i) === 0x5c ? 2 : 1;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}
