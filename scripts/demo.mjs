#!/usr/bin/env node
// `npm run demo`: the registry workflow end to end on the embedded registry, as a tutorial.
// Registers two versions of the bundled ONNX classifier, shows and compares them, promotes
// behind gates (one promotion refused, one accepted) and rolls back, printing every command.
//
// It runs the real CLI (bin/mlv.js) in a fresh temporary MLV_HOME, so it never touches ./.mlv or
// a configured MLflow server (MLFLOW_TRACKING_URI is removed from its environment).
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bin, bold, chapter, demoHome, dim, green, keep, models, quote, red, shown } from './demo-kit.mjs';

const { home, store, env } = demoHome('mlv-demo-');
// In a terminal, moving @production asks for confirmation; the demo passes --yes, as a script would.

// What the demo model was trained with: `mlv register` records these versions as a tag.
writeFileSync(path.join(home, 'requirements.txt'), 'scikit-learn==1.5.2\nskl2onnx==1.17.0\nonnx==1.17.0\n');

/** Runs `mlv ARGS`, echoing the command first; fails the demo on an unexpected exit code. */
function mlv(args, { expect = 0, note } = {}) {
  const line = shown(args, home);
  console.log(`\n${bold('$')} ${bold(`mlv ${line}`)}`);
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: home, env, stdio: 'inherit' });
  const code = r.status ?? 128;
  if (code !== expect) {
    console.error(red(`\ndemo: expected exit code ${expect} from \`mlv ${line}\`, got ${code}`));
    cleanup();
    process.exit(1);
  }
  if (note) console.log(dim(`  ↳ exit code ${code}: ${note}`));
}

function cleanup() {
  if (!keep) rmSync(home, { recursive: true, force: true });
}

console.log(bold('mlv demo — register, compare, promote behind gates, roll back'));
console.log(dim(`An embedded MLflow-compatible registry in ${store} (nothing to install, no server to run).`));
console.log(dim('Point the same commands at a real MLflow server with MLFLOW_TRACKING_URI=http://host:5000.'));

const NAME = 'churn-classifier';
const v1 = path.join(models, 'classifier-v1.onnx');
const v2 = path.join(models, 'classifier-v2.onnx');

chapter(
  'Register the first version',
  "One command creates an MLflow run with the metrics and params, uploads the ONNX file in MLflow's",
  'model layout (MLmodel with the onnx flavor and a signature read from the graph), and registers',
  'version 1 with semver 1.0.0, its sha256, the training data, dependency versions and who did it.',
);
mlv([
  'register',
  v1,
  '--name',
  NAME,
  '--semver',
  '1.0.0',
  '--metric',
  'auc=0.871',
  '--metric',
  'f1=0.802',
  '--metric',
  'latency_p95_ms=4.2',
  '--param',
  'learning_rate=0.1',
  '--param',
  'max_depth=6',
  '--param',
  'n_estimators=200',
  '--training-data',
  's3://ml-data/churn/2026-01.parquet',
  '--framework',
  'scikit-learn 1.5.2',
]);

chapter('Put it in production', 'The first release has nothing to compare with: promote it with no gates.');
mlv(['promote', NAME, 'v1.0.0', '--to', 'production', '--yes']);

chapter('Register a retrained model', '--bump minor computes the next semver (1.1.0) from the highest registered one.');
mlv([
  'register',
  v2,
  '--name',
  NAME,
  '--bump',
  'minor',
  '--metric',
  'auc=0.884',
  '--metric',
  'f1=0.811',
  '--metric',
  'latency_p95_ms=4.0',
  '--param',
  'learning_rate=0.05',
  '--param',
  'max_depth=6',
  '--param',
  'n_estimators=400',
  '--training-data',
  's3://ml-data/churn/2026-02.parquet',
  '--framework',
  'scikit-learn 1.5.2',
  '--alias',
  'candidate',
]);

chapter(
  'Retries are safe',
  'CI jobs get retried. The same artifact with the same semver returns the existing version',
  '("created": false) instead of registering a duplicate.',
);
mlv(['--json', 'register', v2, '--name', NAME, '--semver', '1.1.0']);

chapter('See what is registered', 'Versions with semver, aliases, stage, status and key metrics.');
mlv(['show', NAME]);

chapter(
  'Compare the candidate with production',
  'Versions can be named by number (2), semver (v1.1.0 or 1.1.0) or alias (@production).',
  'Add --md for a Markdown table ready for a pull-request comment.',
);
mlv(['compare', NAME, '@production', '@candidate']);

chapter(
  'Promote behind a gate that says no',
  'The team requires AUC ≥ 0.90. Every gate is shown as a checklist; one failure means exit 1',
  'and nothing changes — which is what a CI job needs.',
);
mlv(
  ['promote', NAME, '@candidate', '--to', 'production', '--require', 'auc>=0.90', '--no-regression', 'auc', '--yes'],
  {
    expect: 1,
    note: 'a gate failed, @production still points at version 1',
  },
);

chapter(
  'Promote behind gates that pass',
  'AUC ≥ 0.88, no regression in AUC or p95 latency against the version in production (with 1% tolerance),',
  'and the candidate must hold @candidate. --dry-run would show the same checklist without moving anything.',
);
mlv([
  'promote',
  NAME,
  '@candidate',
  '--to',
  'production',
  '--from',
  'candidate',
  '--require',
  'auc>=0.88',
  '--no-regression',
  'auc',
  '--no-regression',
  'latency_p95_ms:lower',
  '--tolerance',
  '1%',
  '--yes',
]);
mlv(['show', NAME]);

chapter(
  'Roll back',
  'Every promotion is recorded on the model (who, when, previous holder), so rollback knows where to go.',
);
mlv(['rollback', NAME, '--alias', 'production', '--yes']);
mlv(['show', NAME]);

console.log(`\n${green('✓')} ${bold('demo complete')}`);
if (keep) {
  console.log(dim(`The registry is kept in ${store}. Explore it with:`));
  console.log(`  MLV_HOME=${quote(store)} npx mlv show ${NAME}`);
} else {
  console.log(
    dim('The demo registry was in a temporary folder and has been removed (npm run demo -- --keep keeps it).'),
  );
  cleanup();
}
console.log(dim('Next: `npx mlv --help`, and README.md for pointing mlv at your MLflow server and CI.'));
