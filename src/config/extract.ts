/**
 * The optional extract stage's settings: a PostgreSQL connection (a secret, read by the worker only)
 * and a JSON file naming, per entity, the table or the query whose rows become that day's raw file.
 * Neither set: extract is not configured. One set without the other is a mistake, named.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Entity } from '../shared/contract';
import { ENTITIES } from '../shared/contract';
import type { Env } from './env';
import { parseEnv } from './env';
import { ConfigError } from './errors';

const schema = z.object({
  PIPELINE_EXTRACT_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/\S+$/, 'expected a postgres:// or postgresql:// URL')
    .optional(),
  PIPELINE_EXTRACT_CONFIG: z.string().optional(),
});

/** A PostgreSQL name as written in SQL without quotes, optionally schema-qualified: `public.customers`. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]*$/;
const qualifiedName = z
  .string()
  .refine(
    (v) => v.split('.').length <= 2 && v.split('.').every((p) => IDENTIFIER.test(p)),
    'expected a table name such as public.customers',
  );

const tableSource = z.strictObject({
  table: qualifiedName,
  /** Only the rows whose date (or timestamp) in this column falls on the run date; the whole table otherwise. */
  dateColumn: z.string().regex(IDENTIFIER, 'expected a column name').optional(),
});
const querySource = z.strictObject({
  /** SQL whose `$1` is the run date (text, YYYY-MM-DD: cast it, `$1::date`); its columns are the file's header. */
  query: z.string().trim().min(1, 'the query is empty'),
});

const fileSchema = z.strictObject(
  Object.fromEntries(
    ENTITIES.map((e) => [e, z.union([tableSource, querySource], 'expected {"table": ...} or {"query": ...}').optional()]),
  ) as Record<Entity, z.ZodOptional<z.ZodUnion<[typeof tableSource, typeof querySource]>>>,
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown entity; expected ${ENTITIES.join(', ')}` : undefined) },
);

export type ExtractSource = { entity: Entity; table: string; dateColumn?: string } | { entity: Entity; query: string };

export interface ExtractConfig {
  /** A secret: never logged, never in workflow input, history or status. */
  databaseUrl: string;
  /** Where the sources were read from, for messages. */
  configFile: string;
  sources: ExtractSource[];
}

function readSources(file: string): ExtractSource[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      'PIPELINE_EXTRACT_CONFIG',
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('PIPELINE_EXTRACT_CONFIG', `${file} is not JSON: ${(err as Error).message}`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : '(top level)';
    throw new ConfigError('PIPELINE_EXTRACT_CONFIG', `${file}: ${where}: ${issue.message}`);
  }
  const sources: ExtractSource[] = [];
  for (const entity of ENTITIES) {
    const s = parsed.data[entity];
    if (s) sources.push({ entity, ...s });
  }
  if (sources.length === 0)
    throw new ConfigError('PIPELINE_EXTRACT_CONFIG', `${file} names no entity; expected some of ${ENTITIES.join(', ')}`);
  return sources;
}

/** The extract settings, or undefined when neither variable is set (the stage is then off). */
export function loadExtractConfig(env: Env, cwd = process.cwd()): ExtractConfig | undefined {
  const c = parseEnv(schema, env);
  if (!c.PIPELINE_EXTRACT_DATABASE_URL && !c.PIPELINE_EXTRACT_CONFIG) return undefined;
  if (!c.PIPELINE_EXTRACT_CONFIG)
    throw new ConfigError(
      'PIPELINE_EXTRACT_CONFIG',
      'is missing; PIPELINE_EXTRACT_DATABASE_URL is set, so name the JSON file of tables and queries',
    );
  if (!c.PIPELINE_EXTRACT_DATABASE_URL)
    throw new ConfigError(
      'PIPELINE_EXTRACT_DATABASE_URL',
      'is missing; PIPELINE_EXTRACT_CONFIG is set, so give the PostgreSQL URL to extract from',
    );
  const configFile = path.resolve(cwd, c.PIPELINE_EXTRACT_CONFIG);
  return { databaseUrl: c.PIPELINE_EXTRACT_DATABASE_URL, configFile, sources: readSources(configFile) };
}
