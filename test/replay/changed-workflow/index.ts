/**
 * A deliberately incompatible edit of dailyPipeline: it waits before its first command, as a careless
 * change without patched() would. Replaying any recorded history with it must fail.
 */
import { sleep } from '@temporalio/workflow';
import type { PipelineInput, PipelineResult } from '../../../src/workflows/definitions';
import { dailyPipeline as current } from '../../../src/workflows/daily-pipeline';

export { awaitRawDataSensor } from '../../../src/workflows/sensor';

export async function dailyPipeline(input: PipelineInput = {}): Promise<PipelineResult> {
  await sleep('1 minute');
  return current(input);
}
