/**
 * The rules as a file an engine outside this process runs: the Glue job reads the Spark rendering
 * (`pipeline aws setup` uploads it beside the job script) and refuses one of another model version.
 * Besides the statements, the file holds what the job's own I/O needs of the model (each entity's
 * columns in output order, which of them a header must name, and its key), so nothing in Python
 * restates the contract. It also holds the gold marts (src/rules/marts.ts), each a query over the view
 * `batch_facts` (the batch's accepted orders under the contract's names) that the job writes to
 * `gold/<name>/`. The version is a digest of all of it as rendered for Spark, so any change to the
 * model or to a renderer gives a new one.
 */
import { createHash } from 'node:crypto';
import type { Entity } from '../shared/contract';
import { COLUMNS, ENTITIES, KEY_COLUMN } from '../shared/contract';
import type { DialectName, MartDialect } from './dialect';
import { DIALECTS, MART_DIALECTS } from './dialect';
import { goldMartStatements } from './marts';
import type { Statement } from './verdicts';
import { ruleStatements } from './verdicts';

/** A contract column as a reader of raw files needs it: its name, and whether a header must name it. */
export interface ArtifactColumn {
  name: string;
  required: boolean;
}

export interface RulesArtifact {
  /** Digest of the Spark rendering: what a job run is told to expect. */
  model: string;
  dialect: DialectName;
  /** Per entity (in the contract's order), its columns in output order. */
  columns: Record<Entity, ArtifactColumn[]>;
  /** Per entity, its key column. */
  keys: Record<Entity, string>;
  /** In order: each defines the relation of its name (see src/rules/verdicts.ts for inputs and outputs). */
  statements: Statement[];
  /** Each defines the gold table of its name, over the view `batch_facts` (empty for Trino, which writes no gold). */
  gold: Statement[];
}

/** The view a gold mart of the artifact reads: the batch's accepted orders. */
export const GOLD_FACTS_VIEW = 'batch_facts';

function modelParts(dialect: DialectName): Omit<RulesArtifact, 'model' | 'dialect'> {
  const columns = Object.fromEntries(ENTITIES.map((e) => [e, COLUMNS[e].map((c) => ({ name: c.name, required: c.required }))])) as Record<
    Entity,
    ArtifactColumn[]
  >;
  const keys = Object.fromEntries(ENTITIES.map((e) => [e, KEY_COLUMN[e]])) as Record<Entity, string>;
  const marts: MartDialect | undefined = dialect === 'trino' ? undefined : MART_DIALECTS[dialect];
  const gold = marts ? goldMartStatements(marts, GOLD_FACTS_VIEW) : [];
  return { columns, keys, statements: ruleStatements(DIALECTS[dialect]), gold };
}

export const MODEL_VERSION = createHash('sha256')
  .update(JSON.stringify(modelParts('spark')))
  .digest('hex')
  .slice(0, 16);

export function rulesArtifact(dialect: DialectName = 'spark'): RulesArtifact {
  const { columns, keys, statements, gold } = modelParts(dialect);
  return { model: MODEL_VERSION, dialect, columns, keys, statements, gold };
}

/** The artifact as its file holds it (what scripts/render-rules.ts writes and `pipeline aws setup` uploads). */
export const rulesArtifactText = (dialect: DialectName = 'spark') => `${JSON.stringify(rulesArtifact(dialect), null, 2)}\n`;

/** The artifact's object name: versioned, so a job run never reads rules of another version by accident. */
export const rulesFileName = (model = MODEL_VERSION) => `rules-${model}.spark.json`;
