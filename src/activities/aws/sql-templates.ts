/**
 * The warehouse SQL lives in sql/redshift/*.sql (statements end with `;` at the end of a line).
 * Placeholders are filled only with validated values, so nothing a user types reaches the SQL as code.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectFile } from './project-files';
import { isIsoDate } from '../../shared/contract';
import { MART_DIALECTS } from '../../rules/dialect';
import { warehouseRefreshStatements } from '../../rules/marts';
import { badConfig } from '../errors';

/** sql/redshift of this checkout or image (see project-files.ts). */
export const SQL_DIR = projectFile(path.join('sql', 'redshift'));

export interface SqlParams {
  run_date?: string;
  schema?: string;
  processed_uri?: string;
  copy_role_arn?: string;
}

const RULES: Record<keyof SqlParams, { test: (v: string) => boolean; expected: string; setting: string }> = {
  run_date: { test: isIsoDate, expected: 'an ISO date (YYYY-MM-DD)', setting: 'the run date' },
  schema: { test: (v) => /^[a-z_][a-z0-9_]{0,126}$/.test(v), expected: 'a lower-case SQL identifier', setting: 'PIPELINE_REDSHIFT_SCHEMA' },
  processed_uri: {
    test: (v) => /^s3:\/\/[a-z0-9][a-z0-9.-]+[a-z0-9](\/[A-Za-z0-9!_.*()=/-]*)?$/.test(v) && !v.endsWith('/'),
    expected: 'an s3:// URI without quotes or a trailing slash',
    setting: 'PIPELINE_S3_BUCKET/PIPELINE_S3_PREFIX',
  },
  copy_role_arn: {
    test: (v) => /^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(v),
    expected: 'an IAM role ARN',
    setting: 'PIPELINE_REDSHIFT_COPY_ROLE_ARN',
  },
};

/** Splits a script into statements; comment-only lines go, everything else is kept as written. */
export function splitStatements(script: string): string[] {
  const withoutComments = script
    .split('\n')
    .filter((line) => !/^\s*--/.test(line))
    .join('\n');
  return withoutComments
    .split(/;[ \t]*(?:\r?\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function renderSql(template: string, params: SqlParams, source: string): string {
  return template.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (_m, name: string) => {
    if (!(name in RULES)) throw badConfig(`${source}: unknown placeholder {{${name}}}`);
    const key = name as keyof SqlParams;
    const value = params[key];
    const rule = RULES[key];
    if (value === undefined || value === '') throw badConfig(`${source} needs {{${name}}}: set ${rule.setting}`);
    if (!rule.test(value)) throw badConfig(`${source}: ${rule.setting} must be ${rule.expected}, got ${JSON.stringify(value)}`);
    return value;
  });
}

export function loadStatements(file: 'ddl.sql' | 'load.sql' | 'verify.sql', params: SqlParams, dir: string = SQL_DIR): string[] {
  const where = path.join(dir, file);
  let script: string;
  try {
    script = readFileSync(where, 'utf8');
  } catch (err) {
    throw badConfig(`cannot read warehouse SQL ${where}: ${(err as Error).message}`);
  }
  const statements = splitStatements(renderSql(script, params, where));
  if (statements.length === 0) throw badConfig(`${where} holds no SQL statements`);
  return statements;
}

/**
 * load.sql's block of mart statements, rendered from src/rules/marts.ts for Redshift (placeholders
 * left for renderSql): written into the file by `npx tsx scripts/render-rules.ts --load-sql`, and a
 * test fails when the file's block is not this.
 */
export function redshiftMartsSql(): string {
  const statements = warehouseRefreshStatements(MART_DIALECTS.redshift, {
    schema: '{{schema}}',
    affectedDates: "SELECT a.order_date FROM {{schema}}.stg_affected_dates a WHERE a.batch_date = '{{run_date}}'",
  });
  return statements.map((s) => `${s};\n`).join('\n');
}

const MARTS_BEGIN = /^-- BEGIN marts.*\n/m;
const MARTS_END = /^-- END marts.*\n?/m;
const MARTS_HEADER =
  '-- BEGIN marts: rendered from src/rules/marts.ts by `npx tsx scripts/render-rules.ts --load-sql`; change the model, not this block\n';

/** The text between load.sql's marts markers, or undefined when it has none. */
export function martsBlockOf(script: string): string | undefined {
  const begin = MARTS_BEGIN.exec(script);
  const end = MARTS_END.exec(script);
  if (!begin || !end || end.index < begin.index) return undefined;
  return script.slice(begin.index + begin[0].length, end.index);
}

/** `script` (load.sql) with its marts block replaced by the current rendering. */
export function withMartsBlock(script: string): string {
  const begin = MARTS_BEGIN.exec(script);
  const end = MARTS_END.exec(script);
  if (!begin || !end || end.index < begin.index) throw new Error('load.sql has no "-- BEGIN marts" ... "-- END marts" block');
  return `${script.slice(0, begin.index)}${MARTS_HEADER}${redshiftMartsSql()}${script.slice(end.index)}`;
}
