import type { LocalConfig } from '../../config';
import type { PipelineActivities } from '../types';

export interface LocalActivities extends PipelineActivities {
  /** Waits for background jobs to settle and closes the warehouse. */
  close(): Promise<void>;
}

export function createLocalActivities(_config: LocalConfig, _options: { webUiUrl: string }): LocalActivities {
  throw new Error('not implemented');
}
