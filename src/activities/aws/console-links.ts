/** Links to the AWS console, so a failure message leads straight to the job, query or statement. */

const base = (region: string, service: string) => `https://${region}.console.aws.amazon.com/${service}/home?region=${region}`;
const enc = encodeURIComponent;

export const consoleLinks = {
  crawler: (region: string, name: string) => `${base(region, 'glue')}#/v2/data-catalog/crawlers/view/${enc(name)}`,
  glueJobRun: (region: string, job: string, runId: string) => `${base(region, 'gluestudio')}#/job/${enc(job)}/run/${enc(runId)}`,
  athenaQuery: (region: string, queryId: string) => `${base(region, 'athena')}#/query-editor/history/${enc(queryId)}`,
  redshiftQuery: (region: string, target: { clusterId?: string; workgroup?: string }) =>
    target.clusterId
      ? `${base(region, 'redshiftv2')}#cluster-details?cluster=${enc(target.clusterId)}&tab=query-monitoring`
      : `${base(region, 'redshiftv2')}#serverless-query-and-database-monitoring`,
  s3Prefix: (region: string, bucket: string, prefix: string) =>
    `https://s3.console.aws.amazon.com/s3/buckets/${enc(bucket)}?region=${region}&prefix=${enc(prefix)}`,
};
