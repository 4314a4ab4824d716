/**
 * Search filters, order_by clauses and page tokens, as MLflow's search_utils reads them.
 * Pure: turns strings into clause lists and SQL fragments with bound parameters.
 *
 * Filter grammar: `<clause> [AND <clause>]…`, a clause being `<identifier> <comparator> <value>`:
 *   identifier  name | run_id | tags.<key> | tags.`key with spaces` | attributes.name | …
 *   comparator  = != < <= > >= LIKE ILIKE IN, NOT IN
 *   value       'string' | "string" | number | ('a', 'b', …) for IN
 */
import { invalidParameter } from './errors.js';
import { nonEmpty } from './sql.js';

export type Comparator = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';

export interface Clause {
  /** `tag` for `tags.<key>`, otherwise `attribute`. */
  type: 'attribute' | 'tag';
  key: string;
  comparator: Comparator;
  value: string | number | string[];
}

interface Token {
  kind: 'ident' | 'string' | 'number' | 'op' | 'word' | 'lparen' | 'rparen' | 'comma';
  text: string;
  value: string;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*(?:\.(?:`[^`]*`|"[^"]*"|[A-Za-z0-9_][A-Za-z0-9_.:/-]*))?/;

function tokenize(filter: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = () => invalidParameter(`Invalid filter string: ${filter}`);
  while (i < filter.length) {
    const rest = filter.slice(i);
    const ch = filter[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === "'" || ch === '"') {
      const end = filter.indexOf(ch, i + 1);
      if (end === -1) throw invalidParameter(`Invalid clause(s) in filter string: ${filter.trim()}`);
      const text = filter.slice(i, end + 1);
      tokens.push({ kind: 'string', text, value: text.slice(1, -1) });
      i = end + 1;
      continue;
    }
    if (ch === '(' || ch === ')' || ch === ',') {
      tokens.push({ kind: ch === '(' ? 'lparen' : ch === ')' ? 'rparen' : 'comma', text: ch, value: ch });
      i++;
      continue;
    }
    const op = /^[=!<>]+/.exec(rest);
    if (op) {
      tokens.push({ kind: 'op', text: op[0], value: op[0] });
      i += op[0].length;
      continue;
    }
    const num = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(rest);
    if (num) {
      tokens.push({ kind: 'number', text: num[0], value: num[0] });
      i += num[0].length;
      continue;
    }
    const ident = IDENT.exec(rest);
    if (ident) {
      const upper = ident[0].toUpperCase();
      const isWord = ['AND', 'OR', 'LIKE', 'ILIKE', 'IN', 'NOT'].includes(upper);
      tokens.push({ kind: isWord ? 'word' : 'ident', text: ident[0], value: isWord ? upper : ident[0] });
      i += ident[0].length;
      continue;
    }
    throw fail();
  }
  return tokens;
}

const unquote = (s: string) => (/^(`[^`]*`|"[^"]*")$/.test(s) ? s.slice(1, -1) : s);

/** Parses a filter string into clauses; an empty or missing filter has none. */
export function parseFilter(filter: string | undefined): Clause[] {
  if (filter === undefined || filter.trim() === '') return [];
  const tokens = tokenize(filter);
  const groups: Token[][] = [[]];
  for (const t of tokens) {
    if (t.kind === 'word' && t.value === 'AND') groups.push([]);
    else groups[groups.length - 1]!.push(t);
  }
  return groups.map((g) => parseClause(g));
}

function parseClause(tokens: Token[]): Clause {
  const invalid = () => invalidParameter(`Invalid clause(s) in filter string: ${tokens.map((t) => t.text).join(', ')}`);
  const [ident, ...rest] = tokens;
  if (!ident || ident.kind !== 'ident' || rest.length === 0) throw invalid();
  let comparator: Comparator;
  let valueTokens: Token[];
  const first = rest[0]!;
  if (first.kind === 'op') {
    const op = first.value === '<>' ? '!=' : first.value;
    if (!['=', '!=', '<', '<=', '>', '>='].includes(op)) throw invalid();
    comparator = op as Comparator;
    valueTokens = rest.slice(1);
  } else if (first.kind === 'word' && (first.value === 'LIKE' || first.value === 'ILIKE' || first.value === 'IN')) {
    comparator = first.value;
    valueTokens = rest.slice(1);
  } else if (first.kind === 'word' && first.value === 'NOT' && rest[1]?.kind === 'word' && rest[1].value === 'IN') {
    comparator = 'NOT IN';
    valueTokens = rest.slice(2);
  } else {
    throw invalid();
  }

  let value: string | number | string[];
  if (comparator === 'IN' || comparator === 'NOT IN') {
    // ( 'a' , 'b' … )
    if (valueTokens[0]?.kind !== 'lparen' || valueTokens[valueTokens.length - 1]?.kind !== 'rparen') throw invalid();
    const inner = valueTokens.slice(1, -1);
    const items: string[] = [];
    for (let k = 0; k < inner.length; k++) {
      const t = inner[k]!;
      if (k % 2 === 0) {
        if (t.kind !== 'string') throw invalid();
        items.push(t.value);
      } else if (t.kind !== 'comma') throw invalid();
    }
    if (items.length === 0 || inner.length % 2 === 0) throw invalid();
    value = items;
  } else {
    if (valueTokens.length !== 1) throw invalid();
    const v = valueTokens[0]!;
    if (v.kind === 'string') value = v.value;
    else if (v.kind === 'number') value = Number(v.value);
    else throw invalid();
  }

  const dot = ident.text.indexOf('.');
  const prefix = dot === -1 ? '' : ident.text.slice(0, dot).toLowerCase();
  const rawKey = dot === -1 ? ident.text : ident.text.slice(dot + 1);
  if (prefix === 'tags' || prefix === 'tag') return { type: 'tag', key: unquote(rawKey), comparator, value };
  if (prefix === '' || prefix === 'attribute' || prefix === 'attributes' || prefix === 'attr') {
    return { type: 'attribute', key: unquote(rawKey), comparator, value };
  }
  throw invalidParameter(`Invalid entity type '${ident.text.slice(0, dot)}'. Valid values are ['tags', 'attributes']`);
}

/** SQL LIKE pattern → GLOB pattern: MLflow's LIKE is case-sensitive, SQLite's is not. */
export function likeToGlob(pattern: string): string {
  let out = '';
  for (const ch of pattern) {
    if (ch === '%') out += '*';
    else if (ch === '_') out += '?';
    else if (ch === '*' || ch === '?' || ch === '[') out += `[${ch}]`;
    else out += ch;
  }
  return out;
}

export interface SqlFragment {
  sql: string;
  params: unknown[];
}

/** `column <comparator> ?` for one clause; strings compare case-sensitively except ILIKE. */
export function compareSql(column: string, comparator: Comparator, value: string | number | string[]): SqlFragment {
  switch (comparator) {
    case 'LIKE':
      return { sql: `${column} GLOB ?`, params: [likeToGlob(String(value))] };
    case 'ILIKE':
      return { sql: `${column} LIKE ? ESCAPE '\\'`, params: [String(value).replace(/\\/g, '\\\\')] };
    case 'IN':
    case 'NOT IN': {
      const items = value as string[];
      return {
        sql: `${column} ${comparator} (${items.map(() => '?').join(', ')})`,
        params: items,
      };
    }
    default:
      return { sql: `${column} ${comparator} ?`, params: [value] };
  }
}

/** Checks a clause against what one search endpoint allows; returns the clause for chaining. */
export function checkClause(
  clause: Clause,
  allowed: { comparators: readonly Comparator[]; valueKind: 'string' | 'number' | 'list' },
  entity: string,
): Clause {
  if (!allowed.comparators.includes(clause.comparator)) {
    throw invalidParameter(
      `Invalid comparator '${clause.comparator}' not one of '${JSON.stringify(allowed.comparators)}' for ${entity}`,
    );
  }
  const isList = Array.isArray(clause.value);
  if (clause.comparator === 'IN' || clause.comparator === 'NOT IN') {
    if (!isList) throw invalidParameter(`Expected a list of quoted strings for ${entity}`);
  } else if (typeof clause.value !== (allowed.valueKind === 'number' ? 'number' : 'string')) {
    throw invalidParameter(
      allowed.valueKind === 'number'
        ? `Expected numeric value for ${entity}. Got ${JSON.stringify(clause.value)}`
        : `Invalid clause(s) in filter string: ${clause.key}, ${clause.comparator}, ${String(clause.value)}`,
    );
  }
  return clause;
}

export interface OrderBy {
  key: string;
  ascending: boolean;
}

/** `"name DESC"` → {key:'name', ascending:false}; the key is checked by the caller. */
export function parseOrderBy(clause: string): OrderBy {
  const parts = clause.trim().split(/\s+/);
  if (parts.length === 0 || parts[0] === '' || parts.length > 2) {
    throw invalidParameter(`Invalid order_by clause '${clause}'. Could not be parsed.`);
  }
  let key = parts[0]!;
  const dir = (parts[1] ?? 'ASC').toUpperCase();
  if (dir !== 'ASC' && dir !== 'DESC') {
    throw invalidParameter(`Invalid ordering key in order_by clause '${clause}'.`);
  }
  for (const prefix of ['attributes.', 'attribute.', 'attr.']) {
    if (key.toLowerCase().startsWith(prefix)) key = key.slice(prefix.length);
  }
  return { key: unquote(key), ascending: dir === 'ASC' };
}

/**
 * The ORDER BY of a registry search: each clause's key mapped to its column by `columns`, with
 * MLflow's errors for an unknown (listing `validKeys`) or repeated column. Returns the terms and
 * the columns used, so the caller can add its tie-breakers.
 */
export function orderBySql(
  orderBy: readonly string[],
  columns: Readonly<Record<string, string>>,
  validKeys: readonly string[],
): { terms: string[]; used: Set<string> } {
  const terms: string[] = [];
  const used = new Set<string>();
  for (const clause of orderBy) {
    const { key, ascending } = parseOrderBy(clause);
    const column = Object.hasOwn(columns, key) ? columns[key] : undefined;
    if (!column) {
      throw invalidParameter(
        `Invalid order by key '${key}' specified. Valid keys are '[${validKeys.map((k) => `'${k}'`).join(', ')}]'`,
      );
    }
    if (used.has(column)) throw invalidParameter(`\`order_by\` contains duplicate fields: ${JSON.stringify(orderBy)}`);
    used.add(column);
    terms.push(`${column} ${ascending ? 'ASC' : 'DESC'}`);
  }
  return { terms, used };
}

/** MLflow's check of a search's max_results, before anything else. */
export function checkMaxResults(maxResults: number): void {
  if (maxResults < 1) {
    throw invalidParameter(
      `Invalid value for request parameter max_results. It must be at least 1, but got value ${maxResults}`,
    );
  }
}

/** `tags.<key> <comparator> <value>` as an EXISTS over the tags `t` that `tagsOfRow` selects (a FROM … WHERE …). */
export function tagClauseSql(clause: Clause, tagsOfRow: string, entity: string): SqlFragment {
  checkClause(clause, { comparators: ['=', '!=', 'LIKE', 'ILIKE'], valueKind: 'string' }, entity);
  const cmp = compareSql('t.value', clause.comparator, clause.value);
  return {
    sql: `EXISTS (SELECT 1 FROM ${tagsOfRow} AND t.key = ? AND ${cmp.sql})`,
    params: [clause.key, ...cmp.params],
  };
}

/** `WHERE a AND b …` (or nothing) and its parameters. */
export function whereSql(where: readonly SqlFragment[]): SqlFragment {
  return {
    sql: where.length > 0 ? `WHERE ${where.map((w) => w.sql).join(' AND ')}` : '',
    params: where.flatMap((w) => w.params),
  };
}

/** `{"offset": N}` base64, byte-for-byte what MLflow (Python json.dumps) produces. */
export function encodePageToken(offset: number): string {
  return Buffer.from(`{"offset": ${offset}}`, 'utf8').toString('base64');
}

export function decodePageToken(token: string | undefined): number {
  if (token === undefined || token === '') return 0;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(token) || token.length % 4 !== 0) {
    throw invalidParameter('Invalid page token, could not base64-decode');
  }
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoded);
  } catch {
    throw invalidParameter(`Invalid page token, decoded value=${decoded}`);
  }
  const offset = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>).offset : undefined;
  if (offset === undefined || offset === null || offset === 0 || offset === '') {
    throw invalidParameter(`Invalid page token, parsed value=${decoded}`);
  }
  const n = typeof offset === 'number' ? offset : Number(offset);
  if (!Number.isInteger(n) || n < 0) throw invalidParameter(`Invalid page token, offset value=${String(offset)}`);
  return n;
}

/** Runs a paged query: fetch max+1 rows to know whether there is a next page. */
export function paginate<T>(
  fetch: (limit: number, offset: number) => T[],
  maxResults: number,
  pageToken: string | undefined,
): { items: T[]; nextPageToken: string | undefined } {
  const offset = decodePageToken(pageToken);
  const rows = fetch(maxResults + 1, offset);
  const more = rows.length > maxResults;
  return {
    items: more ? rows.slice(0, maxResults) : rows,
    nextPageToken: more ? encodePageToken(offset + maxResults) : undefined,
  };
}

/**
 * One page of a search, as MLflow answers it: the rows under `key` (omitted when there are none)
 * and `next_page_token` when there are more.
 */
export function searchPage<T, J>(
  key: string,
  fetch: (limit: number, offset: number) => T[],
  toJson: (row: T) => J,
  q: { maxResults: number; pageToken?: string | undefined },
) {
  const page = paginate(fetch, q.maxResults, q.pageToken);
  return {
    ...nonEmpty(key, page.items.map(toJson)),
    ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
  };
}
