import type { AwsConfig, LocalConfig } from '../../config';
import type { PipelineActivities } from '../types';

export interface AwsActivities extends PipelineActivities {
  close(): Promise<void>;
}

export function createAwsActivities(_config: AwsConfig, _options: { webUiUrl: string; local: LocalConfig }): AwsActivities {
  throw new Error('not implemented');
}
