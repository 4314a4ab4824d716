import { createRequire } from 'node:module';

const { version: mlvVersion } = createRequire(import.meta.url)('../../package.json') as { version: string };

/**
 * The MLflow release whose REST behaviour the embedded server reproduces. `/version` answers
 * `3.6.0+mlv.<mlv version>`: clients that branch on the MLflow major version (mlv's own register
 * command uses logged models on MLflow >= 3) see a 3.x server, because this one implements the
 * MLflow 3 logged-model endpoints and 3.x response shapes; the `+mlv.` local-version suffix (valid
 * in both PEP 440 and semver) tells a curious client it is not a real MLflow.
 */
export const MLFLOW_COMPAT_VERSION = '3.6.0';
export const SERVER_VERSION = `${MLFLOW_COMPAT_VERSION}+mlv.${mlvVersion}`;
export { mlvVersion };
