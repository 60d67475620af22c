import { z } from 'zod';
import type { Env } from './env';
import { parseEnv } from './env';

/** A queue name, or the URL GetQueueUrl returns (`https://sqs.eu-west-1.amazonaws.com/123456789012/name`). */
const ARRIVALS_QUEUE = /^([A-Za-z0-9_-]{1,80}|https?:\/\/[^\s/]+\/\d{12}\/[A-Za-z0-9_-]{1,80})$/;

export const DEFAULT_ARRIVALS_QUEUE = 'ecommerce-raw-arrivals';

const schema = z
  .object({
    AWS_REGION: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'expected a region such as eu-west-1'),
    PIPELINE_AWS_ENDPOINT_URL: z.url('expected a URL such as http://127.0.0.1:5000').optional(),
    PIPELINE_S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name'),
    PIPELINE_S3_PREFIX: z.string().default(''),
    PIPELINE_GLUE_DATABASE: z.string().default('ecommerce_raw'),
    PIPELINE_GLUE_CRAWLER: z.string().default('ecommerce-raw-crawler'),
    PIPELINE_GLUE_JOB: z.string().default('ecommerce-etl-job'),
    PIPELINE_GLUE_ROLE_ARN: z
      .string()
      .regex(/^arn:aws[\w-]*:iam::\d{12}:role\//, 'expected an IAM role ARN')
      .optional(),
    PIPELINE_ATHENA_WORKGROUP: z.string().default('primary'),
    PIPELINE_ATHENA_OUTPUT: z
      .string()
      .regex(/^s3:\/\//, 'expected an s3:// location')
      .optional(),
    PIPELINE_REDSHIFT_CLUSTER_ID: z.string().optional(),
    PIPELINE_REDSHIFT_WORKGROUP: z.string().optional(),
    PIPELINE_REDSHIFT_DATABASE: z.string().default('dev'),
    PIPELINE_REDSHIFT_DB_USER: z.string().optional(),
    PIPELINE_REDSHIFT_SECRET_ARN: z.string().optional(),
    PIPELINE_REDSHIFT_COPY_ROLE_ARN: z
      .string()
      .regex(/^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'expected an IAM role ARN')
      .optional(),
    PIPELINE_REDSHIFT_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,126}$/, 'expected a lower-case SQL identifier')
      .default('analytics'),
    PIPELINE_SNS_TOPIC_ARN: z
      .string()
      .regex(/^arn:aws[\w-]*:sns:/, 'expected an SNS topic ARN')
      .optional(),
    PIPELINE_ARRIVALS_QUEUE: z
      .string()
      .regex(ARRIVALS_QUEUE, 'expected an SQS queue name (letters, digits, - and _, at most 80) or its https:// URL')
      .default(DEFAULT_ARRIVALS_QUEUE),
  })
  // How the Redshift Data API authenticates (ExecuteStatement's documented combinations):
  //   cluster:   SecretArn | DbUser (redshift:GetClusterCredentials) | neither (the caller's IAM identity,
  //              redshift:GetClusterCredentialsWithIAM)
  //   workgroup: SecretArn | neither (the caller's IAM identity, redshift-serverless:GetCredentials); no DbUser
  // A secret and a database user are never sent together.
  .superRefine((c, ctx) => {
    const fail = (setting: string, message: string) => ctx.addIssue({ code: 'custom', path: [setting], message });
    if (Boolean(c.PIPELINE_REDSHIFT_CLUSTER_ID) === Boolean(c.PIPELINE_REDSHIFT_WORKGROUP)) {
      return fail(
        'PIPELINE_REDSHIFT_CLUSTER_ID',
        'set exactly one of PIPELINE_REDSHIFT_CLUSTER_ID (provisioned) or PIPELINE_REDSHIFT_WORKGROUP (serverless)',
      );
    }
    if (c.PIPELINE_REDSHIFT_WORKGROUP && c.PIPELINE_REDSHIFT_DB_USER) {
      return fail(
        'PIPELINE_REDSHIFT_DB_USER',
        'not allowed with PIPELINE_REDSHIFT_WORKGROUP (Redshift Serverless takes PIPELINE_REDSHIFT_SECRET_ARN, or neither to connect as the IAM identity)',
      );
    }
    if (c.PIPELINE_REDSHIFT_DB_USER && c.PIPELINE_REDSHIFT_SECRET_ARN) {
      return fail('PIPELINE_REDSHIFT_DB_USER', 'set PIPELINE_REDSHIFT_DB_USER or PIPELINE_REDSHIFT_SECRET_ARN, not both');
    }
  });

export interface AwsConfig {
  region: string;
  endpointUrl?: string;
  bucket: string;
  prefix: string; // '' or ending in '/'
  glueDatabase: string;
  glueCrawler: string;
  glueJob: string;
  /** Role the Glue crawler and job run as; only `pipeline aws setup` needs it. */
  glueRoleArn?: string;
  athenaWorkgroup: string;
  athenaOutput: string;
  redshift: {
    clusterId?: string;
    workgroup?: string;
    database: string;
    dbUser?: string;
    secretArn?: string;
    copyRoleArn?: string;
    schema: string;
  };
  snsTopicArn?: string;
  /**
   * The SQS queue the bucket's raw/ notifications go to, which `pipeline watch` reads and `pipeline
   * aws setup` creates: a name, or a queue URL. Read it with arrivalsQueueOf (configs built in code may leave it out).
   */
  arrivalsQueue?: string;
}

export function arrivalsQueueOf(config: AwsConfig): string {
  return config.arrivalsQueue ?? DEFAULT_ARRIVALS_QUEUE;
}

export function loadAwsConfig(env: Env): AwsConfig {
  const c = parseEnv(schema, env);
  const prefix = c.PIPELINE_S3_PREFIX === '' ? '' : c.PIPELINE_S3_PREFIX.replace(/\/*$/, '/');
  return {
    region: c.AWS_REGION,
    endpointUrl: c.PIPELINE_AWS_ENDPOINT_URL,
    bucket: c.PIPELINE_S3_BUCKET,
    prefix,
    glueDatabase: c.PIPELINE_GLUE_DATABASE,
    glueCrawler: c.PIPELINE_GLUE_CRAWLER,
    glueJob: c.PIPELINE_GLUE_JOB,
    glueRoleArn: c.PIPELINE_GLUE_ROLE_ARN,
    athenaWorkgroup: c.PIPELINE_ATHENA_WORKGROUP,
    athenaOutput: c.PIPELINE_ATHENA_OUTPUT ?? `s3://${c.PIPELINE_S3_BUCKET}/${prefix}athena-results/`,
    redshift: {
      clusterId: c.PIPELINE_REDSHIFT_CLUSTER_ID,
      workgroup: c.PIPELINE_REDSHIFT_WORKGROUP,
      database: c.PIPELINE_REDSHIFT_DATABASE,
      dbUser: c.PIPELINE_REDSHIFT_DB_USER,
      secretArn: c.PIPELINE_REDSHIFT_SECRET_ARN,
      copyRoleArn: c.PIPELINE_REDSHIFT_COPY_ROLE_ARN,
      schema: c.PIPELINE_REDSHIFT_SCHEMA,
    },
    snsTopicArn: c.PIPELINE_SNS_TOPIC_ARN,
    arrivalsQueue: c.PIPELINE_ARRIVALS_QUEUE,
  };
}
