/**
 * Binds the configured backend's implementation of the activity interface (the worker calls this):
 * what one backend borrows from the other is handed to it here, e.g. the AWS backend's notices go
 * to the local channels when no SNS topic is configured.
 */
import type { AppConfig } from '../config';
import { createAwsActivities } from './aws';
import { createLocalActivities } from './local';
import { createLocalNotifier } from './notify/local';
import type { PipelineActivities } from './types';

export type BoundActivities = PipelineActivities & { close(): Promise<void> };

export function createActivities(config: AppConfig): BoundActivities {
  const webUiUrl = config.temporal.webUiUrl;
  if (config.backend === 'aws') {
    if (!config.aws) throw new Error('aws backend selected but aws configuration was not loaded');
    return createAwsActivities(config.aws, {
      webUiUrl,
      extract: config.extract,
      fallbackNotifier: () => createLocalNotifier(config.local, { webUiUrl }),
    });
  }
  return createLocalActivities(config.local, { webUiUrl, extract: config.extract });
}
