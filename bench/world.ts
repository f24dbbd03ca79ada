import type { World } from '@workflow/world'
import { createLocalWorld } from '@workflow/world-local'
import { createPostgresWorld } from '../lib/world/postgres.js'

export const BENCH_KEY = 'bench-key-0000000000000000000000001'
export const BENCH_WORKFLOW_ID = 'workflow//./workflows/bench//job'
export const BENCH_MANIFEST = { version: '1.0.0', steps: {}, workflows: { 'workflows/bench.ts': { job: { workflowId: BENCH_WORKFLOW_ID } } } }
export const BENCH_INPUT = [1, { order: 'o-1' }]
export const BENCH_TRIGGER_BODY = JSON.stringify({ workflowName: 'job', input: BENCH_INPUT })

/**
 * Set by a benchmark for its targets: the PostgreSQL database of world-postgres (and, for the
 * worker, of its control plane). Unset: world-local in the target's temp dir, SQLite beside it.
 */
export const BENCH_POSTGRES_ENV = 'COMPUTE_WORKER_BENCH_TARGET_POSTGRES_URL'

/** A world-local whose queue deliveries are acknowledged in-process: no code runs, nothing is retried. */
export function benchWorld (dataDir: string): World {
  const world = createLocalWorld({ dataDir })
  const local = world as World & { registerHandler (prefix: string, handler: (request: Request) => Promise<Response>): void }
  const ack = async () => Response.json({ ok: true })
  local.registerHandler('__wkf_workflow_', ack)
  local.registerHandler('__wkf_step_', ack)
  return world
}

/**
 * The World of a bench target: world-postgres on `BENCH_POSTGRES_ENV` when it is set, else
 * `benchWorld(dataDir)`. world-postgres's queue only inserts its jobs: their runner waits for an
 * executor at `WORKFLOW_LOCAL_BASE_URL`, which `postgresTargetEnv` points at a closed port, so no
 * delivery runs (the counterpart of world-local's in-process acknowledgement).
 */
export function benchTargetWorld (dataDir: string): { world: World, postgresUrl: string | undefined } {
  const postgresUrl = process.env[BENCH_POSTGRES_ENV]
  if (postgresUrl === undefined || postgresUrl === '') return { world: benchWorld(dataDir), postgresUrl: undefined }
  return { world: createPostgresWorld({ connectionString: postgresUrl }), postgresUrl }
}

/** The environment of a bench target on world-postgres at `url` (see `benchTargetWorld`). */
export function postgresTargetEnv (url: string): Record<string, string> {
  return { [BENCH_POSTGRES_ENV]: url, WORKFLOW_LOCAL_BASE_URL: 'http://127.0.0.1:9' }
}
