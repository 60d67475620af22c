/**
 * Bundles src/workflows once at build time, so a production worker starts without webpack:
 * PIPELINE_WORKFLOW_BUNDLE=dist/workflow-bundle.js pipeline worker
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowInterceptorModules } from '../src/observability';
import { workflowsEntry } from '../src/worker';

async function main(): Promise<void> {
  const out = path.resolve(process.argv[2] ?? 'dist/workflow-bundle.js');
  const { code } = await bundleWorkflowCode({ workflowsPath: workflowsEntry(), workflowInterceptorModules: workflowInterceptorModules() });
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, code);
  console.log(`wrote the workflow bundle to ${out} (${(code.length / 1024).toFixed(0)} KiB)`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
