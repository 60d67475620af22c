/** One set of AWS SDK clients per worker, built from the validated configuration. */
import { AthenaClient } from '@aws-sdk/client-athena';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { GlueClient } from '@aws-sdk/client-glue';
import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import type { AwsConfig } from '../../config';

export interface AwsClients {
  s3: S3Client;
  glue: GlueClient;
  athena: AthenaClient;
  redshiftData: RedshiftDataClient;
  sns: SNSClient;
  /** Only to read the tail of a failed Glue run's log. */
  logs: CloudWatchLogsClient;
}

export function createAwsClients(config: AwsConfig): AwsClients {
  // The SDK's own retries stay short: Temporal's retry policy owns the long backoff.
  const common = { region: config.region, maxAttempts: 3, ...(config.endpointUrl ? { endpoint: config.endpointUrl } : {}) };
  return {
    // Path-style addressing lets an endpoint override (moto, LocalStack, a VPC endpoint) serve any bucket.
    s3: new S3Client({ ...common, forcePathStyle: Boolean(config.endpointUrl) }),
    glue: new GlueClient(common),
    athena: new AthenaClient(common),
    redshiftData: new RedshiftDataClient(common),
    sns: new SNSClient(common),
    logs: new CloudWatchLogsClient(common),
  };
}

export function destroyAwsClients(clients: AwsClients): void {
  for (const c of Object.values(clients) as { destroy(): void }[]) c.destroy();
}
