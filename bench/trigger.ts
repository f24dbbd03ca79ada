/**
 * Trigger throughput: POST /v1/runs through a listening worker (unique Idempotency-Keys,
 * autocannon) next to the same World calls made directly in this process (createRun: the
 * run_created event and the queue message, as start() makes them), then idempotent-replay
 * latency. Queue deliveries are acknowledged in-process in both cases, so only the trigger
 * path is measured.
 *
 * The two modes alternate (after a warm-up of each) and each figure is the mean of its rounds:
 * the machine is shared, and the World's file store warms up as it grows.
 *
 *   node --import tsx bench/trigger.ts [seconds per round=5] [connections=10] [rounds=2]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { World } from '@workflow/world'
import { createLocalWorld } from '@workflow/world-local'
import autocannon from 'autocannon'
import { createRun } from '../lib/runs/create-run.js'
import { newRunId } from '../lib/runs/trigger.js'
import { startNodeComputeWorkerServer } from '../server.js'

const seconds = Number(process.argv[2] ?? 5)
const connections = Number(process.argv[3] ?? 10)
const rounds = Number(process.argv[4] ?? 2)
const KEY = 'bench-key-0000000000000000000000001'
const WORKFLOW_ID = 'workflow//./workflows/bench//job'
const MANIFEST = { version: '1.0.0', steps: {}, workflows: { 'workflows/bench.ts': { job: { workflowId: WORKFLOW_ID } } } }
const BODY = JSON.stringify({ workflowName: 'job', input: [1, { order: 'o-1' }] })

function acknowledgeDeliveries (world: World): void {
  const local = world as World & { registerHandler (prefix: string, handler: (request: Request) => Promise<Response>): void }
  const ack = async () => Response.json({ ok: true })
  local.registerHandler('__wkf_workflow_', ack)
  local.registerHandler('__wkf_step_', ack)
}

async function cannon (options: autocannon.Options): Promise<autocannon.Result> {
  return await new Promise((resolve, reject) => {
    autocannon(options, (error, result) => error ? reject(error) : resolve(result))
  })
}

/** The same World work as one trigger, `connections` at a time, for `seconds`. */
async function directCalls (world: World, deploymentId: string, duration = seconds): Promise<{ perSecond: number, total: number }> {
  const deadline = Date.now() + duration * 1000
  let total = 0
  await Promise.all(Array.from({ length: connections }, async () => {
    while (Date.now() < deadline) {
      await createRun(world, { runId: newRunId(), deploymentId, workflowName: WORKFLOW_ID, input: [1, { order: 'o-1' }] })
      total++
    }
  }))
  return { perSecond: total / duration, total }
}

async function main (): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'cw-bench-'))
  const world = createLocalWorld({ dataDir: join(dir, 'world') })
  acknowledgeDeliveries(world)
  const server = await startNodeComputeWorkerServer({
    world,
    port: 0,
    sqlitePath: join(dir, 'worker.db'),
    artifactDir: join(dir, 'artifacts'),
    seedApiKeys: [{ key: KEY, scopes: ['trigger:write', 'deploy:write'], rateLimitPerMinute: 100_000_000 }]
  })
  try {
    const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }
    const created = await (await fetch(`${server.url}/v1/deployments`, { method: 'POST', headers, body: JSON.stringify({ manifest: MANIFEST }) })).json()
    const activated = await fetch(`${server.url}/v1/deployments/${created.id}/activate`, { method: 'POST', headers: { authorization: headers.authorization } })
    if (!activated.ok) throw new Error(`activation failed: ${await activated.text()}`)

    let counter = 0
    let sample: string | undefined
    const throughWorker = async (duration: number) => await cannon({
      url: `${server.url}/v1/runs`,
      method: 'POST',
      headers,
      body: BODY,
      connections,
      duration,
      requests: [{
        setupRequest: (request: any) => ({ ...request, headers: { ...request.headers, 'idempotency-key': `bench-${process.pid}-${counter++}` } }),
        onResponse: (status: number, body: string) => { if (status !== 202 && sample === undefined) sample = `${status} ${body}` }
      }]
    })
    await throughWorker(2)
    await directCalls(world, created.id, 2)
    const workerRounds: autocannon.Result[] = []
    const directRounds: Array<{ perSecond: number, total: number }> = []
    for (let round = 0; round < rounds; round++) {
      workerRounds.push(await throughWorker(seconds))
      directRounds.push(await directCalls(world, created.id))
    }
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length
    const worker = {
      perSecond: mean(workerRounds.map((result) => result.requests.average)),
      p50: mean(workerRounds.map((result) => result.latency.p50)),
      p99: mean(workerRounds.map((result) => result.latency.p99)),
      total: workerRounds.reduce((sum, result) => sum + result.requests.total, 0),
      non2xx: workerRounds.reduce((sum, result) => sum + result.non2xx, 0),
      errors: workerRounds.reduce((sum, result) => sum + result.errors, 0)
    }
    const direct = { perSecond: mean(directRounds.map((result) => result.perSecond)), total: directRounds.reduce((sum, result) => sum + result.total, 0) }
    const replay = await cannon({
      url: `${server.url}/v1/runs`,
      method: 'POST',
      headers: { ...headers, 'idempotency-key': 'bench-replay' },
      body: BODY,
      connections,
      duration: seconds
    })

    const non2xx = worker.non2xx + replay.non2xx
    console.log(`trigger through the worker (${connections} connections, ${rounds} x ${seconds} s, unique keys): ${worker.perSecond.toFixed(0)} req/s, ` +
      `latency p50 ${worker.p50.toFixed(0)} ms, p99 ${worker.p99.toFixed(0)} ms, ${worker.total} runs`)
    console.log(`same World calls in-process (createRun, ${connections} concurrent, ${rounds} x ${seconds} s): ${direct.perSecond.toFixed(0)} runs/s, ${direct.total} runs`)
    console.log(`ratio worker / direct: ${(worker.perSecond / direct.perSecond).toFixed(2)}`)
    console.log(`idempotent replay (one key): ${replay.requests.average.toFixed(0)} req/s, latency p50 ${replay.latency.p50} ms, p99 ${replay.latency.p99} ms`)
    if (non2xx > 0 || worker.errors > 0) console.log(`warning: ${non2xx} non-2xx answers (${sample}), ${worker.errors + replay.errors} errors`)
  } finally {
    await server.close()
    await rm(dir, { recursive: true, force: true })
  }
}

await main()
