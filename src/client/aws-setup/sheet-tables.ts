/**
 * The Glue tables over the workbook sheets the catalog stage converts to CSV (see catalog-workbooks.ts): one
 * `sheets_<entity>` table per entity over `converted/<entity>/`, every contract column as string in
 * contract order, one partition per date folder found by Athena partition projection (no crawler, no
 * partitions to register). `pipeline aws setup` creates them; an existing table that differs is
 * reported outdated and left as it is, like the other resources setup finds.
 */
import { CreateTableCommand, GetTableCommand } from '@aws-sdk/client-glue';
import type { GlueClient, Table, TableInput } from '@aws-sdk/client-glue';
import type { AwsConfig } from '../../config';
import type { Entity } from '../../shared/contract';
import { COLUMNS, ENTITIES } from '../../shared/contract';
import { awsCall, awsErrorName } from '../../activities/aws/aws-errors';
import { convertedPrefix } from '../../activities/aws/lake-paths';
import { PARTITION_COLUMN, SHEETS_TABLE_PREFIX } from '../../activities/aws/validate-sql';

/** `sheets_<entity>`: the name the validate stage's query reads (one definition, in validate-sql.ts). */
export const SHEET_TABLE_PREFIX = SHEETS_TABLE_PREFIX;

export const sheetTableName = (entity: Entity): string => `${SHEET_TABLE_PREFIX}${entity}`;

export const OPEN_CSV_SERDE = 'org.apache.hadoop.hive.serde2.OpenCSVSerde';

/**
 * The CSV dialect the converter writes (RFC 4180: `,`, `"`, a quote doubled inside quotes). The
 * SerDe's escape character defaults to a backslash, which it drops wherever it does not precede a
 * quote, so `C:\tmp` would read as `C:tmp`; U+0001 takes that role instead: no text a sheet holds in
 * practice contains it, and the converter doubles it where one does (catalog-workbooks.ts).
 */
export const SHEET_CSV_SERDE_PARAMETERS: Record<string, string> = { separatorChar: ',', quoteChar: '"', escapeChar: '\u0001' };

/** The Glue TableInput of `sheets_<entity>`. */
export function sheetTableInput(config: AwsConfig, entity: Entity): TableInput {
  const location = `s3://${config.bucket}/${convertedPrefix(config, entity)}`;
  return {
    Name: sheetTableName(entity),
    Description: `Workbook sheets of ${entity}, converted to CSV by the catalog stage (one folder per date)`,
    TableType: 'EXTERNAL_TABLE',
    Parameters: {
      EXTERNAL: 'TRUE',
      classification: 'csv',
      'skip.header.line.count': '1',
      'projection.enabled': 'true',
      [`projection.${PARTITION_COLUMN}.type`]: 'date',
      [`projection.${PARTITION_COLUMN}.format`]: 'yyyy-MM-dd',
      [`projection.${PARTITION_COLUMN}.range`]: '2000-01-01,NOW',
      [`projection.${PARTITION_COLUMN}.interval`]: '1',
      [`projection.${PARTITION_COLUMN}.interval.unit`]: 'DAYS',
      'storage.location.template': `${location}\${${PARTITION_COLUMN}}/`,
    },
    PartitionKeys: [{ Name: PARTITION_COLUMN, Type: 'string' }],
    StorageDescriptor: {
      Columns: COLUMNS[entity].map((c) => ({ Name: c.name, Type: 'string' })),
      Location: location,
      InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
      OutputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
      SerdeInfo: { SerializationLibrary: OPEN_CSV_SERDE, Parameters: { ...SHEET_CSV_SERDE_PARAMETERS } },
    },
  };
}

/** How an existing table differs from the one setup creates, in words; empty when it does not. */
export function sheetTableDifferences(table: Table, wanted: TableInput): string[] {
  const out: string[] = [];
  const sd = table.StorageDescriptor ?? {};
  const want = wanted.StorageDescriptor!;
  const names = (cols: { Name?: string; Type?: string }[] | undefined) =>
    (cols ?? []).map((c) => `${c.Name ?? ''} ${c.Type ?? ''}`).join(', ');
  if (sd.Location?.replace(/\/?$/, '/') !== want.Location) out.push(`reads ${sd.Location ?? 'no location'}, expected ${want.Location}`);
  if (sd.SerdeInfo?.SerializationLibrary !== want.SerdeInfo!.SerializationLibrary) {
    out.push(`uses SerDe ${sd.SerdeInfo?.SerializationLibrary ?? '(none)'}, expected ${want.SerdeInfo!.SerializationLibrary}`);
  }
  for (const [key, value] of Object.entries(want.SerdeInfo!.Parameters ?? {})) {
    if (sd.SerdeInfo?.Parameters?.[key] !== value)
      out.push(`SerDe parameter ${key} is ${JSON.stringify(sd.SerdeInfo?.Parameters?.[key] ?? null)}, expected ${JSON.stringify(value)}`);
  }
  if (names(sd.Columns) !== names(want.Columns)) out.push(`has columns (${names(sd.Columns)}), expected (${names(want.Columns)})`);
  if (names(table.PartitionKeys) !== names(wanted.PartitionKeys))
    out.push(`is partitioned by (${names(table.PartitionKeys)}), expected (${names(wanted.PartitionKeys)})`);
  for (const [key, value] of Object.entries(wanted.Parameters ?? {})) {
    if (table.Parameters?.[key] !== value)
      out.push(`${key} is ${JSON.stringify(table.Parameters?.[key] ?? null)}, expected ${JSON.stringify(value)}`);
  }
  return out;
}

/** One resource's outcome, as setup.ts records it (a subset of its SetupStep). */
export interface SheetTableStep {
  resource: string;
  state: 'exists' | 'missing' | 'created' | 'outdated';
  detail?: string;
}

/**
 * Creates each missing `sheets_<entity>` table (with `apply`), or reports it missing (the plan); an
 * existing one is `exists` when it is what setup would create, `outdated` (with the differences, and
 * left unchanged) otherwise. Run after the Glue database is ensured.
 */
export async function ensureSheetTables(
  glue: GlueClient,
  config: AwsConfig,
  record: (step: SheetTableStep) => void,
  options: { apply: boolean },
): Promise<void> {
  for (const entity of ENTITIES) {
    const wanted = sheetTableInput(config, entity);
    const resource = `Glue table ${config.glueDatabase}.${wanted.Name}`;
    const detail = `CSV of converted sheets in ${wanted.StorageDescriptor!.Location}, date partitions by projection`;
    let existing: Table | undefined;
    try {
      existing = (await glue.send(new GetTableCommand({ DatabaseName: config.glueDatabase, Name: wanted.Name }))).Table;
    } catch (err) {
      // A missing table, or a database the plan has not created yet.
      if (awsErrorName(err) !== 'EntityNotFoundException') await awsCall(resource, 'GetTable', () => Promise.reject(err));
    }
    if (existing) {
      const differs = sheetTableDifferences(existing, wanted);
      if (differs.length === 0) record({ resource, state: 'exists' });
      else
        record({
          resource,
          state: 'outdated',
          detail: `${differs.join('; ')} (setup does not change an existing table: delete it and run setup --apply)`,
        });
      continue;
    }
    if (!options.apply) {
      record({ resource, state: 'missing', detail: `would create: ${detail}` });
      continue;
    }
    await awsCall(resource, 'CreateTable', () =>
      glue.send(new CreateTableCommand({ DatabaseName: config.glueDatabase, TableInput: wanted })),
    );
    record({ resource, state: 'created', detail });
  }
}
