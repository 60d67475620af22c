/** The pipeline's workflows plus a probe that logs without passing any fields of its own. */
import { log, upsertSearchAttributes } from '@temporalio/workflow';
import { SA_RUN_DATE, SA_STAGE } from '../../../src/workflows/definitions';

export * from '../../../src/workflows';

export async function loggingProbe(runDate: string): Promise<void> {
  log.info('probe: before the run date is known');
  upsertSearchAttributes([
    { key: SA_RUN_DATE, value: runDate },
    { key: SA_STAGE, value: 'load' },
  ]);
  log.info('probe: after');
}
