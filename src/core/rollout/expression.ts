/**
 * The success and failure conditions of an analysis metric: a tiny expression language, parsed
 * here and evaluated without `eval`.
 *
 *   condition := or
 *   or        := and (("||" | "or") and)*
 *   and       := not (("&&" | "and") not)*
 *   not       := ("!" | "not") not | compare
 *   compare   := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?
 *   sum       := product (("+" | "-") product)*
 *   product   := unary (("*" | "/") unary)*
 *   unary     := "-" unary | number | name | name "(" sum ("," sum)* ")" | "(" or ")"
 *
 * Names are `result` (the metric's value for the candidate; `candidate` is the same), `stable` (the
 * same quantity for the stable version) and whatever else the provider measured (`requests`,
 * `stable_requests`, …). Functions: abs, min, max, isNaN. A condition may start with its operator,
 * `< 0.01` meaning `result < 0.01` (Flagger's and the shorthand).
 *
 * A name without a value (no data for it) does not make the condition false: evaluation throws
 * MissingValueError, which the measurement turns into "inconclusive".
 */

export type Node =
  | { k: 'num'; v: number }
  | { k: 'var'; name: string }
  | { k: 'neg'; e: Node }
  | { k: 'arith'; op: '+' | '-' | '*' | '/'; l: Node; r: Node }
  | { k: 'cmp'; op: CompareOp; l: Node; r: Node }
  | { k: 'logic'; op: 'and' | 'or'; l: Node; r: Node }
  | { k: 'not'; e: Node }
  | { k: 'call'; fn: 'abs' | 'min' | 'max' | 'isNaN'; args: Node[] };

export type CompareOp = '<' | '<=' | '>' | '>=' | '==' | '!=';

export class ExpressionError extends Error {}

/** A name the condition needs has no value in this measurement. */
export class MissingValueError extends Error {
  constructor(readonly variable: string) {
    super(`no value for ${variable}`);
  }
}

type Token =
  { t: 'num'; v: number; at: number } | { t: 'name'; v: string; at: number } | { t: 'op'; v: string; at: number };

const OPS = ['<=', '>=', '==', '!=', '&&', '||', '<', '>', '+', '-', '*', '/', '(', ')', ',', '!'];

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i));
    if (num) {
      out.push({ t: 'num', v: Number(num[0]), at: i });
      i += num[0].length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(src.slice(i));
    if (name) {
      out.push({ t: 'name', v: name[0], at: i });
      i += name[0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new ExpressionError(`unexpected "${c}" at position ${i + 1}`);
    out.push({ t: 'op', v: op, at: i });
    i += op.length;
  }
  return out;
}

const COMPARE = new Set(['<', '<=', '>', '>=', '==', '!=']);
const FUNCTIONS = new Set(['abs', 'min', 'max', 'isNaN']);

/**
 * Parses a condition. Throws ExpressionError naming the position of the problem.
 * @example parseCondition('< 0.01') // { k: 'cmp', op: '<', l: { k: 'var', name: 'result' }, r: { k: 'num', v: 0.01 } }
 */
export function parseCondition(source: string): Node {
  let src = source.trim();
  if (src === '') throw new ExpressionError('empty condition');
  if (/^(<=|>=|==|!=|<|>)/.test(src)) src = `result ${src}`;
  const tokens = tokenize(src);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const isOp = (v: string): boolean => {
    const t = peek();
    return t !== undefined && ((t.t === 'op' && t.v === v) || (t.t === 'name' && t.v === v));
  };
  const fail = (what: string): never => {
    const t = peek();
    throw new ExpressionError(
      t === undefined ? `${what} at the end` : `${what} at position ${t.at + 1} ("${String(t.v)}")`,
    );
  };
  const expect = (v: string) => {
    if (!isOp(v)) fail(`expected "${v}"`);
    pos++;
  };

  function or(): Node {
    let l = and();
    while (isOp('||') || isOp('or')) {
      pos++;
      l = { k: 'logic', op: 'or', l, r: and() };
    }
    return l;
  }
  function and(): Node {
    let l = not();
    while (isOp('&&') || isOp('and')) {
      pos++;
      l = { k: 'logic', op: 'and', l, r: not() };
    }
    return l;
  }
  function not(): Node {
    if (isOp('!') || isOp('not')) {
      pos++;
      return { k: 'not', e: not() };
    }
    return compare();
  }
  function compare(): Node {
    const l = sum();
    const t = peek();
    if (t && t.t === 'op' && COMPARE.has(t.v)) {
      pos++;
      const r = sum();
      const next = peek();
      if (next && next.t === 'op' && COMPARE.has(next.v)) fail('comparisons do not chain; use "and"');
      return { k: 'cmp', op: t.v as CompareOp, l, r };
    }
    return l;
  }
  function sum(): Node {
    let l = product();
    while (isOp('+') || isOp('-')) {
      const op = peek()!.v as '+' | '-';
      pos++;
      l = { k: 'arith', op, l, r: product() };
    }
    return l;
  }
  function product(): Node {
    let l = unary();
    while (isOp('*') || isOp('/')) {
      const op = peek()!.v as '*' | '/';
      pos++;
      l = { k: 'arith', op, l, r: unary() };
    }
    return l;
  }
  function unary(): Node {
    const t = peek();
    if (t === undefined) return fail('expected a value');
    if (t.t === 'op' && t.v === '-') {
      pos++;
      return { k: 'neg', e: unary() };
    }
    if (t.t === 'num') {
      pos++;
      return { k: 'num', v: t.v };
    }
    if (t.t === 'op' && t.v === '(') {
      pos++;
      const e = or();
      expect(')');
      return e;
    }
    if (t.t === 'name' && !['and', 'or', 'not'].includes(t.v)) {
      pos++;
      if (isOp('(')) {
        if (!FUNCTIONS.has(t.v)) throw new ExpressionError(`unknown function "${t.v}" (known: abs, min, max, isNaN)`);
        pos++;
        const args = [sum()];
        while (isOp(',')) {
          pos++;
          args.push(sum());
        }
        expect(')');
        const fn = t.v as 'abs' | 'min' | 'max' | 'isNaN';
        if ((fn === 'abs' || fn === 'isNaN') && args.length !== 1)
          throw new ExpressionError(`${fn}() takes one argument`);
        return { k: 'call', fn, args };
      }
      return { k: 'var', name: t.v === 'candidate' ? 'result' : t.v };
    }
    return fail('expected a value');
  }

  const node = or();
  if (pos < tokens.length) fail('unexpected');
  if (!isBoolean(node)) throw new ExpressionError('a condition must compare, e.g. "result <= 0.01"');
  return node;
}

function isBoolean(n: Node): boolean {
  return n.k === 'cmp' || n.k === 'logic' || n.k === 'not' || (n.k === 'call' && n.fn === 'isNaN');
}

/** The names a condition reads (`candidate` is reported as `result`). */
export function variablesOf(n: Node, into = new Set<string>()): Set<string> {
  switch (n.k) {
    case 'var':
      into.add(n.name);
      break;
    case 'neg':
    case 'not':
      variablesOf(n.e, into);
      break;
    case 'arith':
    case 'cmp':
    case 'logic':
      variablesOf(n.l, into);
      variablesOf(n.r, into);
      break;
    case 'call':
      for (const a of n.args) variablesOf(a, into);
      break;
    case 'num':
      break;
  }
  return into;
}

export type Values = Readonly<Record<string, number | null | undefined>>;

function num(n: Node, values: Values): number {
  switch (n.k) {
    case 'num':
      return n.v;
    case 'var': {
      const v = values[n.name];
      if (v === null || v === undefined) throw new MissingValueError(n.name);
      return v;
    }
    case 'neg':
      return -num(n.e, values);
    case 'arith': {
      const l = num(n.l, values);
      const r = num(n.r, values);
      return n.op === '+' ? l + r : n.op === '-' ? l - r : n.op === '*' ? l * r : l / r;
    }
    case 'call': {
      const args = n.args.map((a) => num(a, values));
      if (n.fn === 'abs') return Math.abs(args[0]!);
      if (n.fn === 'min') return Math.min(...args);
      if (n.fn === 'max') return Math.max(...args);
      throw new ExpressionError('isNaN() is a condition, not a number');
    }
    default:
      throw new ExpressionError('a comparison cannot be used as a number');
  }
}

const NEGATED: Record<CompareOp, CompareOp> = { '<': '>=', '<=': '>', '>': '<=', '>=': '<', '==': '!=', '!=': '==' };

/** Numbers for people: at most 4 significant digits after rounding away float noise. */
export function fmtValue(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '-∞';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a < 1e-4 || a >= 1e9) return x.toExponential(2);
  return String(Number(x.toPrecision(4)));
}

export interface ConditionOutcome {
  holds: boolean;
  /** What decided it, in numbers: `51.2 > 25` (the comparison as it came out, negated when false). */
  detail: string;
}

/**
 * Evaluates a parsed condition. A comparison with a NaN side is false (NaN latency is not healthy).
 * @example evaluateCondition(parseCondition('result <= 25'), { result: 51.2 }) // { holds: false, detail: '51.2 > 25' }
 */
export function evaluateCondition(n: Node, values: Values): ConditionOutcome {
  switch (n.k) {
    case 'cmp': {
      const l = num(n.l, values);
      const r = num(n.r, values);
      const holds =
        n.op === '<'
          ? l < r
          : n.op === '<='
            ? l <= r
            : n.op === '>'
              ? l > r
              : n.op === '>='
                ? l >= r
                : n.op === '=='
                  ? l === r
                  : l !== r;
      return { holds, detail: `${fmtValue(l)} ${holds ? n.op : NEGATED[n.op]} ${fmtValue(r)}` };
    }
    case 'logic': {
      const l = evaluateCondition(n.l, values);
      if (n.op === 'and' && !l.holds) return l;
      if (n.op === 'or' && l.holds) return l;
      const r = evaluateCondition(n.r, values);
      if (n.op === 'and') return r.holds ? { holds: true, detail: `${l.detail} and ${r.detail}` } : r;
      return r.holds ? r : { holds: false, detail: `${l.detail} and ${r.detail}` };
    }
    case 'not': {
      const e = evaluateCondition(n.e, values);
      return { holds: !e.holds, detail: `not (${e.detail})` };
    }
    case 'call': {
      if (n.fn !== 'isNaN') throw new ExpressionError(`${n.fn}() is a number, not a condition`);
      const v = num(n.args[0]!, values);
      return { holds: Number.isNaN(v), detail: `${fmtValue(v)} is ${Number.isNaN(v) ? '' : 'not '}NaN` };
    }
    default:
      throw new ExpressionError('a condition must compare, e.g. "result <= 0.01"');
  }
}
