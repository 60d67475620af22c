import path from 'node:path';
import { SingleBar } from 'cli-progress';
import Table from 'cli-table3';
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { loadConfig } from '../../config';
import type { GenerateResult, Injection, ScaleName } from '../../generate';
import { DEFAULT_SEED, MAX_DAYS, MAX_ORDERS, PartitionExistsError, SCALES, generateLake, isScaleName } from '../../generate';
import { ENTITIES, FIELD_REJECT_REASONS } from '../../shared/contract';
import { UserError } from '../errors';
import { parseDate } from './run';

interface GenerateCliOptions {
  date: string;
  days: number;
  scale: ScaleName;
  orders?: number;
  dirty?: boolean;
  seed: number;
  lake?: string;
  force?: boolean;
}

/** Progress bars only make sense on a terminal, and only for runs long enough to watch. */
const PROGRESS_MIN_ROWS = 100_000;

function wholeNumber(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

function parseScale(value: string): ScaleName {
  if (!isScaleName(value)) throw new InvalidArgumentError(`expected one of ${Object.keys(SCALES).join(', ')}`);
  return value;
}

const n = (v: number) => v.toLocaleString('en-US');

export function formatGenerateSummary(result: GenerateResult, lakeDir: string, elapsedMs: number): string {
  const lines: string[] = [];
  const rows = result.files.reduce((s, f) => s + f.rows, 0);
  const bytes = result.files.reduce((s, f) => s + f.bytes, 0);
  lines.push(
    `wrote ${result.files.length} files, ${n(rows)} rows, ${(bytes / 1024 / 1024).toFixed(1)} MiB under ${lakeDir} in ${(elapsedMs / 1000).toFixed(1)} s`,
  );
  const written = new Set(result.files.map((f) => f.date));
  for (const day of result.plan.days) {
    if (!written.has(day.date)) continue;
    const changes =
      day.index === 0
        ? ''
        : ` (+${day.newCustomers} new, ${day.updatedCustomers} updated; products +${day.newProducts} new, ${day.updatedProducts} repriced)`;
    lines.push(`  ${day.date}: ${n(day.customers)} customers, ${n(day.products)} products, ${n(day.orders)} orders${changes}`);
  }
  if (result.skippedDates.length) lines.push(`skipped (partitions already there): ${result.skippedDates.join(', ')}`);
  for (const w of result.warnings) lines.push(`warning: ${w}`);

  // The generator writes well-formed CSV: malformed lines are the hostile-input tests' business.
  const kinds: Injection[] = [...FIELD_REJECT_REASONS, 'exact_duplicate', 'needs_cleaning'];
  const injected = result.plan.days.filter((d) => written.has(d.date)).map((d) => d.injections);
  const sum = (entity: (typeof ENTITIES)[number], kind: Injection) => injected.reduce((s, inj) => s + (inj[entity][kind] ?? 0), 0);
  if (injected.some((inj) => ENTITIES.some((e) => Object.keys(inj[e]).length > 0))) {
    const table = new Table({ head: ['injected', ...ENTITIES, 'total'], style: process.stdout.isTTY ? {} : { head: [], border: [] } });
    for (const kind of kinds) {
      const counts = ENTITIES.map((e) => sum(e, kind));
      table.push([kind, ...counts.map((c) => (c ? n(c) : '-')), n(counts.reduce((a, b) => a + b, 0))]);
    }
    lines.push(
      'dirty rows injected (reject reasons; exact duplicates collapse and still load once; needs_cleaning rows load after cleaning):',
    );
    lines.push(table.toString());
  }
  return lines.join('\n');
}

export function registerGenerateCommand(program: Command): void {
  program
    .command('generate')
    .description('write realistic fake raw files (customers, products, orders) into the lake for one or more dates')
    .requiredOption('-d, --date <date>', 'first date YYYY-MM-DD', parseDate)
    .addOption(new Option('--days <n>', 'number of consecutive dates').argParser(wholeNumber(1, MAX_DAYS)).default(1))
    .addOption(
      new Option(
        '--scale <scale>',
        Object.entries(SCALES)
          .map(([k, v]) => `${k}: ${v.description}`)
          .join('; '),
      )
        .argParser(parseScale)
        .default('small'),
    )
    .addOption(
      new Option('--orders <n>', "orders over the period instead of the scale's (customers and products stay the scale's)").argParser(
        wholeNumber(1, MAX_ORDERS),
      ),
    )
    .option('--dirty', 'inject rows for every reject reason, exact duplicates and rows that need cleaning')
    .addOption(
      new Option('--seed <seed>', 'random seed; the same seed gives byte-identical files')
        .argParser(wholeNumber(0, Number.MAX_SAFE_INTEGER))
        .default(DEFAULT_SEED),
    )
    .option('--lake <dir>', 'lake folder (default: PIPELINE_LAKE_DIR)')
    .option('--force', 'overwrite partitions that already hold files')
    .action(async (opts: GenerateCliOptions) => {
      const lakeDir = path.resolve(opts.lake ?? loadConfig().local.lakeDir);
      const started = performance.now();
      let bar: SingleBar | undefined;
      const onProgress = (written: number, total: number) => {
        if (!process.stdout.isTTY || total < PROGRESS_MIN_ROWS) return;
        if (!bar) {
          bar = new SingleBar({
            format: 'generating [{bar}] {percentage}% | {value}/{total} rows | {eta}s left',
            hideCursor: true,
            clearOnComplete: true,
          });
          bar.start(total, 0);
        }
        bar.update(written);
      };
      let result: GenerateResult;
      try {
        result = await generateLake({
          lakeDir,
          startDate: opts.date,
          days: opts.days,
          scale: opts.scale,
          orders: opts.orders,
          dirty: opts.dirty,
          seed: opts.seed,
          existing: opts.force ? 'overwrite' : 'refuse',
          onProgress,
        });
      } catch (err) {
        if (err instanceof PartitionExistsError) {
          const where = err.partitions.map((p) => `  ${p.dir}: ${p.files.join(', ')}`).join('\n');
          throw new UserError(
            `refusing to overwrite ${err.partitions.length} existing partition(s); pass --force to replace the generated files:\n${where}`,
          );
        }
        if (err instanceof RangeError) throw new UserError(err.message);
        throw err;
      } finally {
        bar?.stop();
      }
      console.log(formatGenerateSummary(result, lakeDir, performance.now() - started));
    });
}
