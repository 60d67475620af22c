/**
 * The public face of the dailyPipeline workflow: its input, its status, its signals and queries and
 * the search attributes it keeps current. Clients import these; nothing here runs I/O.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { Duration, RetryPolicy } from '@temporalio/common';
import type { StageName } from '../shared/contract';
import type { QualityResult, QualityThresholds } from '../shared/quality';
import type { UnreadItem } from '../shared/unread';

export const WORKFLOW_TYPE = 'dailyPipeline';

/**
 * How a run was started: `rerun` is an operator redoing a finished day from a stage (`pipeline rerun` on a closed run);
 * `event` is `pipeline watch` starting a day once its raw files have arrived.
 */
export type Trigger = 'manual' | 'schedule' | 'backfill' | 'rerun' | 'event';

export interface StageOptions {
  /**
   * Longest time between two state reads of the stage's external work (and between two starts
   * while the backend is busy). The first read is at once; later waits start at
   * `firstPollInterval` and double up to this.
   */
  pollInterval: Duration;
  /**
   * The wait before the second state read (default 1 second, never above `pollInterval`). Set it
   * to `pollInterval` for the fixed interval of runs before adaptive polling.
   */
  firstPollInterval: Duration;
  /** Give-up time for the stage's external work, from its start. */
  timeout: Duration;
  /** Retry policy of the stage's activities (each activity is one external call). */
  retry: RetryPolicy;
  /** Start-to-close timeout of one activity call. */
  activityTimeout: Duration;
  /** How many times the workflow starts new external work by itself when the backend says it may. */
  maxAutoRestarts: number;
}

/** The sensor checks at once, then every `pollInterval`: raw data lands when it lands, and a check costs ~20 events. */
export interface SensorOptions extends Omit<StageOptions, 'firstPollInterval'> {
  /** After this long without data an alert notice is sent; the sensor keeps waiting. */
  softDeadline: Duration;
  /** Polls before the sensor continues as new, to keep its history short. */
  pollsPerHistory: number;
}

/**
 * The optional extract stage: one activity per entity copies the run date's rows from the shop's
 * PostgreSQL into the raw partitions. The worker holds the source and its secret; a run only says
 * whether to extract (a run started from extract, or an operator's rerun of it, extracts too).
 */
export interface ExtractOptions {
  enabled: boolean;
  retry: RetryPolicy;
  /** Start-to-close timeout of one entity's extract (it streams the whole table or query). */
  activityTimeout: Duration;
  /** An extract that stops heartbeating for this long is presumed lost with its worker, and retried. */
  heartbeatTimeout: Duration;
}

export interface PipelineOptions {
  stages: {
    extract: ExtractOptions;
    awaitRawData: SensorOptions;
    catalog: StageOptions;
    validate: StageOptions;
    transform: StageOptions;
    load: StageOptions;
    verify: StageOptions;
    notify: StageOptions;
  };
  /** How long a failed stage waits for an operator's rerunStage or skipStage before the run fails. */
  operatorWait: Duration;
  quality: QualityThresholds;
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

export interface PipelineInput {
  /** Logical date YYYY-MM-DD. Omitted for scheduled runs: taken from the scheduled start time. */
  runDate?: string;
  trigger?: Trigger;
  /** IANA time zone that turns a scheduled start time into a run date (default UTC). */
  timeZone?: string;
  /** Start at this stage; the earlier ones are marked skipped. */
  startFrom?: StageName;
  /** Why the run was started (an operator's reason for redoing a day), shown on the skipped stages. */
  reason?: string;
  options?: DeepPartial<PipelineOptions>;
}

export type StageState = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';
export type RunState = 'running' | 'awaiting_operator' | 'succeeded' | 'failed' | 'cancelled';

export interface StageStatus {
  stage: StageName;
  state: StageState;
  /** How many times the stage has been started (reruns and automatic restarts included). */
  attempts: number;
  startedAt?: string;
  endedAt?: string;
  /** Crawl name, job run id, query execution ids, statement ids... */
  externalIds: Record<string, string>;
  metrics: Record<string, number>;
  message?: string;
}

export interface OperatorAction {
  at: string;
  signal: 'skipStage' | 'rerunStage';
  stage: StageName;
  reason: string;
  /** What the workflow did with it: applied, queued, or why it was ignored. */
  outcome: string;
}

export interface PipelineStatus {
  runDate: string;
  trigger: Trigger;
  state: RunState;
  currentStage?: StageName;
  stages: StageStatus[];
  quality?: QualityResult[];
  /** What the catalog found in the partitions and did not read (other kinds, folders, links, empty files, sheets). */
  unread?: UnreadItem[];
  operatorActions: OperatorAction[];
  noticesSent: string[];
  /** Set while the run waits for an operator: until when. */
  awaitingOperatorUntil?: string;
  /** What `pipeline watch` reported arriving for this date (rawDataArrived signals); absent when none came. */
  arrivals?: RawDataArrivals;
}

/** The rawDataArrived signal's argument: raw files `pipeline watch` saw for the run's date. */
export interface RawDataArrival {
  /** Lake-relative keys (`raw/orders/2025-10-27/orders.csv`) of the data files present. */
  keys: string[];
  /** Where the watcher learned of them: S3 notifications from SQS, or a scan of the lake folder. */
  source: 'sqs' | 'folder';
  at: string;
}

export interface RawDataArrivals {
  signals: number;
  lastAt: string;
  /** Every key reported, first seen first, at most ARRIVAL_KEYS_KEPT. */
  keys: string[];
}

export const ARRIVAL_KEYS_KEPT = 100;

export interface PipelineResult {
  runDate: string;
  state: 'succeeded';
  stages: StageStatus[];
  quality?: QualityResult[];
}

export const statusQuery = defineQuery<PipelineStatus>('status');
export const skipStageSignal = defineSignal<[StageName, string]>('skipStage');
export const rerunStageSignal = defineSignal<[StageName, string]>('rerunStage');
/** Sent by `pipeline watch` (signal-with-start) when a date's raw files are all there; only recorded in the status. */
export const rawDataArrivedSignal = defineSignal<[RawDataArrival]>('rawDataArrived');

export const SA_RUN_DATE = defineSearchAttributeKey('PipelineRunDate', SearchAttributeType.KEYWORD);
export const SA_STAGE = defineSearchAttributeKey('PipelineStage', SearchAttributeType.KEYWORD);
export const SA_STATUS = defineSearchAttributeKey('PipelineStatus', SearchAttributeType.KEYWORD);
export const SA_TRIGGER = defineSearchAttributeKey('PipelineTrigger', SearchAttributeType.KEYWORD);

/** For `temporal server start-dev --search-attribute NAME=Keyword` and operator namespace setup. */
export const CUSTOM_SEARCH_ATTRIBUTES = ['PipelineRunDate', 'PipelineStage', 'PipelineStatus', 'PipelineTrigger'] as const;

/** Workflow id of a manual run or backfill of one date. */
export function pipelineWorkflowId(runDate: string): string {
  return `daily-pipeline-${runDate}`;
}
