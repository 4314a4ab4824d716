// The `mlv/layers` rule: the direction of relative imports inside src/ (README "Development" and
// ../shared/STYLE.md "Layout shows the architecture"). Package imports are held by
// no-restricted-imports in eslint.config.js; this rule resolves relative specifiers against the
// importing file, which a pattern on the specifier text cannot do.
//
//   src/core/**          imports only src/core/** and src/errors.ts (a dependency-free leaf)
//   src/commands/**      imports no other command file (src/commands/args.ts is the shared flag parsers)
//   src/commands/**      is imported only by src/program.ts (and lazily, one command per run)
//   src/run.ts, context  the command plumbing: imported only by commands, program.ts and main.ts
//
// Static imports, `export … from`, `import('…')` calls and `import('…')` types are all checked.
import path from 'node:path';

const src = path.resolve(import.meta.dirname, '..', 'src');

/** src-relative path of what `specifier` in `file` names, or undefined for packages. */
function target(file, specifier) {
  if (!specifier.startsWith('.')) return undefined;
  const resolved = path.resolve(path.dirname(file), specifier).replace(/\.js$/, '.ts');
  return path.relative(src, resolved).split(path.sep).join('/');
}

const plumbing = new Set(['run.ts', 'context.ts']);
const plumbingUsers = (from) => from.startsWith('commands/') || from === 'program.ts' || from === 'main.ts';

/** Why `from` may not import `to` (both src-relative), or undefined when it may. */
export function layerViolation(from, to) {
  if (to.startsWith('../')) return undefined; // outside src/: not a layer question
  if (from.startsWith('core/') && !to.startsWith('core/') && to !== 'errors.ts') {
    return 'src/core is pure: it imports only src/core and src/errors.ts';
  }
  if (to.startsWith('commands/')) {
    if (from.startsWith('commands/') && to !== 'commands/args.ts') {
      return 'a command does not import another command: move the shared piece below src/commands/';
    }
    if (!from.startsWith('commands/') && from !== 'program.ts') {
      return 'only src/program.ts imports command files';
    }
  }
  if (plumbing.has(to) && !plumbing.has(from) && !plumbingUsers(from)) {
    return `src/${to} is command plumbing: pass what you need as arguments instead`;
  }
  return undefined;
}

export default {
  rules: {
    layers: {
      meta: {
        type: 'problem',
        docs: { description: 'imports point inward: commands → registry/io/… → core' },
        schema: [
          {
            type: 'object',
            properties: {
              // [from, to] pairs (src-relative) tolerated for now; each needs a TODO beside it.
              allow: { type: 'array', items: { type: 'array', items: { type: 'string' }, minItems: 2, maxItems: 2 } },
            },
            additionalProperties: false,
          },
        ],
        messages: { layer: '{{why}} (src/{{from}} → src/{{to}})' },
      },
      create(context) {
        const from = path.relative(src, context.filename).split(path.sep).join('/');
        if (from.startsWith('../')) return {};
        const allowed = new Set((context.options[0]?.allow ?? []).map(([a, b]) => `${a} ${b}`));
        const check = (node, source) => {
          if (source?.type !== 'Literal' || typeof source.value !== 'string') return;
          const to = target(context.filename, source.value);
          if (to === undefined || allowed.has(`${from} ${to}`)) return;
          const why = layerViolation(from, to);
          if (why) context.report({ node: source, messageId: 'layer', data: { why, from, to } });
        };
        return {
          ImportDeclaration: (node) => check(node, node.source),
          ExportNamedDeclaration: (node) => check(node, node.source),
          ExportAllDeclaration: (node) => check(node, node.source),
          ImportExpression: (node) => check(node, node.source),
          TSImportType: (node) => check(node, node.source ?? node.argument?.literal),
        };
      },
    },
  },
};
