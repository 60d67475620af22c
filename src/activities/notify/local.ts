import type { LocalConfig } from '../../config';
import type { Notice, PublishResult } from '../types';

export interface NotifierOptions {
  /** Base URL of the Temporal Web UI, for the run link in each notice. */
  webUiUrl: string;
}

/** Console line, one JSON line per notice in the outbox, optional webhook. */
export function createLocalNotifier(_config: LocalConfig, _options: NotifierOptions): { publishNotification(notice: Notice): Promise<PublishResult> } {
  throw new Error('not implemented');
}
