/** Where things live in the bucket: one definition shared by the activities and `pipeline aws setup`. */
import type { AwsConfig } from '../../config';
import type { Entity } from '../../shared/contract';

export const lakePaths = (config: AwsConfig) => ({
  /** Root holding raw/{entity}/{date}/, as the Glue job's --raw_path. */
  rootUri: `s3://${config.bucket}/${config.prefix}`.replace(/\/$/, ''),
  rawKey: `${config.prefix}raw/`,
  rawUri: `s3://${config.bucket}/${config.prefix}raw/`,
  /** No trailing slash: the Glue job and sql/redshift/load.sql append /gold/..., /_metrics/... */
  processedUri: `s3://${config.bucket}/${config.prefix}processed`,
  processedKey: `${config.prefix}processed/`,
  metricsKey: (runDate: string) => `${config.prefix}processed/_metrics/batch_date=${runDate}/metrics.json`,
  scriptKey: `${config.prefix}scripts/ecommerce_etl_job.py`,
  athenaResultsKey: `${config.prefix}athena-results/`,
});

/**
 * Bucket key of an entity's converted workbook sheets (catalog-workbooks.ts writes them, the
 * `sheets_<entity>` tables of `pipeline aws setup` read them), or of one date's folder of them
 * (trailing slash).
 */
export function convertedPrefix(config: AwsConfig, entity: Entity, runDate?: string): string {
  return `${config.prefix}converted/${entity}/${runDate ? `${runDate}/` : ''}`;
}
