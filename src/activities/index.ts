/** Binds the configured backend's implementation of the activity interface. */
import type { AppConfig } from '../config';
import { createAwsActivities } from './aws';
import { createLocalActivities } from './local';
import type { PipelineActivities } from './types';

export type BoundActivities = PipelineActivities & { close(): Promise<void> };

export function createActivities(config: AppConfig): BoundActivities {
  const webUiUrl = config.temporal.webUiUrl;
  if (config.backend === 'aws') {
    if (!config.aws) throw new Error('aws backend selected but aws configuration was not loaded');
    return createAwsActivities(config.aws, { webUiUrl, local: config.local });
  }
  return createLocalActivities(config.local, { webUiUrl });
}
