/**
 * Prints the contract's rules rendered for an engine, as the file the Glue job reads:
 *   npx tsx scripts/render-rules.ts [spark|duckdb|trino] [--out FILE]
 * or writes the marts of src/rules/marts.ts, rendered for Redshift, into sql/redshift/load.sql:
 *   npx tsx scripts/render-rules.ts --load-sql
 */
import fs from 'node:fs';
import path from 'node:path';
import { SQL_DIR, withMartsBlock } from '../src/activities/aws/sql-templates';
import { rulesArtifact } from '../src/rules/artifact';
import { DIALECTS } from '../src/rules/dialect';
import type { DialectName } from '../src/rules/dialect';

const args = process.argv.slice(2);
if (args.includes('--load-sql')) {
  const file = path.join(SQL_DIR, 'load.sql');
  const before = fs.readFileSync(file, 'utf8');
  const after = withMartsBlock(before);
  if (after !== before) fs.writeFileSync(file, after);
  console.log(`${file}: marts block ${after === before ? 'already up to date' : 'rewritten'}`);
  process.exit(0);
}
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? args[outAt + 1] : undefined;
const dialect = (args.find((a, i) => !a.startsWith('--') && i !== outAt + 1) ?? 'spark') as DialectName;
if (!(dialect in DIALECTS)) {
  console.error(`render-rules: unknown dialect ${dialect} (spark, duckdb or trino)`);
  process.exit(2);
}
const text = `${JSON.stringify(rulesArtifact(dialect), null, 2)}\n`;
if (out) fs.writeFileSync(out, text);
else process.stdout.write(text);
