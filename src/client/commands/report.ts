import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { loadConfig } from '../../config';
import { connectClient } from '../connection';
import { UserError } from '../errors';
import { printable } from '../format';
import { gatherReport } from '../report/gather';
import { renderReport } from '../report/render';

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('expected a whole number >= 1');
  return Number(value);
}

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('write one self-contained HTML file about a run: stages, quality checks, counts, rejects, 30 days of revenue')
    .argument('<date>', 'run date YYYY-MM-DD (its newest run), or a workflow id')
    .option('-o, --out <file>', 'where to write the HTML (default: report-<date>.html in the current folder)')
    .addOption(
      new Option('--wait <seconds>', 'how long to wait while a worker writes the local warehouse').argParser(positiveInt).default(30),
    )
    .action(async (target: string, opts: { out?: string; wait: number }) => {
      const config = loadConfig();
      const client = await connectClient(config.temporal);
      const data = await gatherReport({
        client,
        target,
        backend: config.backend,
        warehousePath: path.resolve(config.local.warehousePath),
        webUiUrl: config.temporal.webUiUrl,
        waitMs: opts.wait * 1000,
        onWait: (holder) => console.error(`pipeline: waiting for the worker: the warehouse is in use by ${printable(holder)}`),
      });
      const out = path.resolve(opts.out ?? `report-${data.runDate}.html`);
      try {
        fs.writeFileSync(out, renderReport(data));
      } catch (err) {
        throw new UserError(`--out ${out}: cannot write the report (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
      console.log(printable(out));
    });
}
