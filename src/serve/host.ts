import type { MlflowClient } from '../mlflow/client.js';

/** What the serve runtime needs from the command that runs it (the command passes its Context). */
export interface ServeHost {
  readonly env: NodeJS.ProcessEnv;
  readonly signal: AbortSignal;
  mlflow(): Promise<MlflowClient>;
  now(): Date;
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}
