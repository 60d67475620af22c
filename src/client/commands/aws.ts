import type { Command } from 'commander';
import type { SetupStep } from '../aws-setup/setup';
import { loadAwsConfig } from '../../config/aws';
import { createAwsClients, destroyAwsClients } from '../../activities/aws/clients';
import { runSetup } from '../aws-setup/setup';
import { UserError } from '../errors';

const MARK: Record<SetupStep['state'], string> = {
  exists: 'ok      ',
  missing: 'missing ',
  created: 'created ',
  updated: 'updated ',
  skipped: 'skipped ',
  outdated: 'outdated',
  unknown: 'unknown ',
};

export function registerAwsCommands(program: Command): void {
  const aws = program.command('aws').description('AWS backend helpers');
  aws
    .command('setup')
    .description('check (default) or create (--apply) the S3 folders, Glue database/crawler/job, Athena workgroup and Redshift schema')
    .option('--apply', 'create what is missing (idempotent; existing resources are left as they are)')
    .option('--skip-warehouse', 'do not touch Redshift (no DDL)')
    .action(async (opts: { apply?: boolean; skipWarehouse?: boolean }) => {
      const config = loadAwsConfig(process.env);
      const clients = createAwsClients(config);
      console.log(
        `${opts.apply ? 'Setting up' : 'Plan for'} the aws backend in ${config.region} (bucket ${config.bucket}${config.prefix ? `, prefix ${config.prefix}` : ''})`,
      );
      try {
        const steps = await runSetup(config, clients, {
          apply: Boolean(opts.apply),
          skipWarehouse: opts.skipWarehouse,
          onStep: (s) => console.log(`  ${MARK[s.state]} ${s.resource}${s.detail ? ` - ${s.detail}` : ''}`),
        });
        const todo = steps.filter((s) => s.state === 'missing' || (s.state === 'outdated' && s.applyUpdates)).length;
        const unknown = steps.filter((s) => s.state === 'unknown').length;
        const leftAlone = steps.filter((s) => s.state === 'outdated' && !s.applyUpdates).length;
        if (!opts.apply) console.log(todo ? `${todo} change(s) to make: run again with --apply` : 'nothing to change');
        if (leftAlone)
          console.log(
            `${leftAlone} outdated resource(s) that setup leaves as they are: it never changes an existing crawler or job (see above)`,
          );
        if (unknown) console.log(`${unknown} resource(s) could not be checked (see above)`);
      } catch (err) {
        throw new UserError(`aws setup: ${(err as Error).message}`);
      } finally {
        destroyAwsClients(clients);
      }
    });
}
