import type { World } from '@workflow/world'
import { createLocalWorld } from '@workflow/world-local'

export const BENCH_KEY = 'bench-key-0000000000000000000000001'
export const BENCH_WORKFLOW_ID = 'workflow//./workflows/bench//job'
export const BENCH_MANIFEST = { version: '1.0.0', steps: {}, workflows: { 'workflows/bench.ts': { job: { workflowId: BENCH_WORKFLOW_ID } } } }
export const BENCH_INPUT = [1, { order: 'o-1' }]
export const BENCH_TRIGGER_BODY = JSON.stringify({ workflowName: 'job', input: BENCH_INPUT })

/** A world-local whose queue deliveries are acknowledged in-process: no code runs, nothing is retried. */
export function benchWorld (dataDir: string): World {
  const world = createLocalWorld({ dataDir })
  const local = world as World & { registerHandler (prefix: string, handler: (request: Request) => Promise<Response>): void }
  const ack = async () => Response.json({ ok: true })
  local.registerHandler('__wkf_workflow_', ack)
  local.registerHandler('__wkf_step_', ack)
  return world
}
