import { InputError } from '../../errors.js';

/**
 * Dependency versions from the manifests teams already have. Each parser takes the file's text
 * and returns {package: specifier} ("==2.3.0", ">=1.26", "^4.17.21"; "*" when unpinned).
 */
export type Dependencies = Record<string, string>;

const PEP508_NAME = /^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)$/;

/** PEP 503 normalisation, so `Scikit_Learn` and `scikit-learn` are one package. */
export function normalizePackageName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** One PEP 508 requirement (`torch==2.3.0 ; python_version >= "3.9"`) → [name, specifier]. */
export function parseRequirementLine(line: string): [string, string] | undefined {
  const s = line
    .replace(/\s+#.*$/, '')
    .replace(/^#.*$/, '')
    .trim();
  // Per-requirement options (--hash=…, --config-settings …) are not part of the version.
  const cut = s.search(/\s--?[a-z]/i);
  const req = cut >= 0 ? s.slice(0, cut).trim() : s;
  // Options (-r, -e, --index-url) and bare URLs name no package; `pkg @ https://…` keeps the URL as its "version".
  if (req === '' || s.startsWith('-') || (req.includes('://') && !req.includes('@'))) return undefined;
  const m = PEP508_NAME.exec(req);
  if (!m) return undefined;
  let spec = m[3]!.split(';')[0]!.trim();
  spec = spec.replace(/\s+/g, '');
  if (spec.startsWith('(') && spec.endsWith(')')) spec = spec.slice(1, -1);
  return [normalizePackageName(m[1]!), spec === '' ? '*' : spec];
}

/** requirements.txt: one requirement a line; comments, options (-r, -e, --index-url) and blank lines skipped. */
export function parseRequirementsTxt(text: string): Dependencies {
  const out: Dependencies = {};
  // Line continuations (`\` at the end) join lines, as pip does.
  for (const line of text.replace(/\\\r?\n/g, ' ').split(/\r?\n/)) {
    const r = parseRequirementLine(line);
    if (r) out[r[0]] = r[1];
  }
  return out;
}

/**
 * pyproject.toml: PEP 621 `[project] dependencies = [...]` and Poetry's
 * `[tool.poetry.dependencies]` table (python itself is skipped). A small reader for exactly
 * these two shapes, not a TOML parser.
 */
export function parsePyproject(text: string): Dependencies {
  const out: Dependencies = {};
  let section = '';
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const line = raw.replace(/\s+#.*$/, '').trim();
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = header[1]!.trim();
      continue;
    }
    if (section === 'project' && /^dependencies\s*=\s*\[/.test(line)) {
      let body = line.slice(line.indexOf('[') + 1);
      while (!body.includes(']') && i + 1 < lines.length) body += '\n' + lines[++i]!.replace(/\s+#.*$/, '');
      body = body.slice(0, body.lastIndexOf(']'));
      for (const m of body.matchAll(/"([^"]*)"|'([^']*)'/g)) {
        const r = parseRequirementLine(m[1] ?? m[2] ?? '');
        if (r) out[r[0]] = r[1];
      }
      continue;
    }
    if (section === 'tool.poetry.dependencies') {
      const kv = /^([A-Za-z0-9._-]+)\s*=\s*(.+)$/.exec(line);
      if (!kv || kv[1]!.toLowerCase() === 'python') continue;
      const value = kv[2]!.trim();
      const str = /^["']([^"']*)["']$/.exec(value);
      const inline = /version\s*=\s*["']([^"']*)["']/.exec(value);
      out[normalizePackageName(kv[1]!)] = str ? str[1]! : inline ? inline[1]! : value;
    }
  }
  return out;
}

/** package.json `dependencies`. */
export function parsePackageJson(text: string, file = 'package.json'): Dependencies {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const deps = (v as { dependencies?: unknown } | null)?.dependencies;
  const out: Dependencies = {};
  if (deps && typeof deps === 'object') {
    for (const [k, s] of Object.entries(deps)) if (typeof s === 'string') out[k] = s;
  }
  return out;
}

export type ManifestKind = 'requirements' | 'pyproject' | 'package-json';

/** Which parser a file name calls for: `pyproject.toml`, `package.json`, anything else is requirements-style. */
export function manifestKind(fileName: string): ManifestKind {
  const base = fileName.split(/[\\/]/).pop()!.toLowerCase();
  if (base === 'pyproject.toml') return 'pyproject';
  if (base === 'package.json') return 'package-json';
  return 'requirements';
}

export function parseManifest(fileName: string, text: string): Dependencies {
  switch (manifestKind(fileName)) {
    case 'pyproject':
      return parsePyproject(text);
    case 'package-json':
      return parsePackageJson(text, fileName);
    case 'requirements':
      return parseRequirementsTxt(text);
  }
}

/**
 * The mlv.dependencies tag value: sorted JSON, trimmed to `max` characters by dropping whole
 * entries from the end (a tag value has a length limit), with `…` as a marker key when cut.
 */
export function dependenciesTagValue(deps: Dependencies, max: number): string {
  const entries = Object.entries(deps).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  let kept = entries;
  let json = JSON.stringify(Object.fromEntries(kept));
  while (json.length > max && kept.length > 0) {
    kept = kept.slice(0, -1);
    json = JSON.stringify(Object.fromEntries([...kept, ['…', `${entries.length - kept.length} more`]]));
  }
  return json;
}
