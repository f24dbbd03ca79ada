import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { World } from '@workflow/world'
import { createLocalWorld } from '@workflow/world-local'
import { benchArgs, machine, startTarget, type BenchArgs, type Target } from './load.js'

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

export interface BenchSession {
  args: BenchArgs
  /** The bare Fastify hello-world, in a process of its own. */
  hello: Target
  /** The worker, in a process of its own: `info.key` has every scope, a deployment is active. */
  worker: Target
  /** A World of this process, for the baselines that call it directly. */
  world: World
  /** `Authorization` and JSON content type with the worker's key. */
  headers: Record<string, string>
  /** Duration (the given one, a warm-up's) and connections of an autocannon run. */
  timing: (durationSeconds?: number) => { durationSeconds: number, connections: number }
}

/**
 * What every benchmark starts from (the machine and its load printed before and after), torn
 * down afterwards whatever happens.
 */
export async function benchSession (run: (session: BenchSession) => Promise<void>): Promise<void> {
  const args = benchArgs()
  console.log(`machine: ${machine()}`)
  const dir = await mkdtemp(join(tmpdir(), 'cw-bench-'))
  const world = benchWorld(join(dir, 'world'))
  await world.start?.()
  const hello = await startTarget('hello')
  const worker = await startTarget('worker')
  try {
    const headers = { authorization: `Bearer ${worker.info.key as string}`, 'content-type': 'application/json' }
    const timing = (durationSeconds = args.durationSeconds) => ({ durationSeconds, connections: args.connections })
    await run({ args, hello, worker, world, headers, timing })
  } finally {
    await worker.stop()
    await hello.stop()
    await world.close?.()
    await rm(dir, { recursive: true, force: true })
  }
  console.log(`machine after: ${machine()}`)
}
