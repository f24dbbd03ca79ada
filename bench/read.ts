/**
 * Authenticated GET /v1/runs/:id through the worker against a bare Fastify hello-world, alternated
 * in one run. Two more rows say where the gap is: GET /v1/health/live (the framework and the
 * worker's hooks, no key, no World call) and the same World read made directly in this process
 * (world.runs.get, as many at once as autocannon has connections).
 * The worker and the hello-world each run in a process of their own, autocannon in this one.
 * Run: node --import tsx bench/read.ts [--seconds 5] [--rounds 3] [--connections 10] [--quick]
 */
import { createRun } from '../lib/runs/create-run.js'
import { newRunId } from '../lib/runs/trigger.js'
import { benchSession, compareMany, load, loop, ratio, report } from './load.js'
import { BENCH_INPUT, BENCH_TRIGGER_BODY, BENCH_WORKFLOW_ID } from './world.js'

await benchSession(async ({ args, hello, worker, world, headers, timing }) => {
  const auth = { authorization: headers.authorization }
  const triggered = await fetch(`${worker.url}/v1/runs`, {
    method: 'POST',
    headers: { ...headers, 'idempotency-key': 'bench-read' },
    body: BENCH_TRIGGER_BODY
  })
  if (triggered.status !== 202) throw new Error(`trigger failed: ${triggered.status} ${await triggered.text()}`)
  const { runId } = await triggered.json() as { runId: string }
  const directRunId = newRunId()
  await createRun(world, { runId: directRunId, deploymentId: 'dpl_bench', workflowName: BENCH_WORKFLOW_ID, input: BENCH_INPUT })

  const comparison = await compareMany(
    (seconds) => load({ ...timing(seconds), label: 'GET / (bare Fastify hello-world)', url: `${hello.url}/`, target: hello }),
    [
      (seconds) => load({ ...timing(seconds), label: 'GET /v1/runs/:id (worker, bearer key)', url: `${worker.url}/v1/runs/${runId}`, headers: auth, target: worker }),
      (seconds) => load({ ...timing(seconds), label: 'GET /v1/health/live (worker, no key)', url: `${worker.url}/v1/health/live`, target: worker }),
      (seconds = args.durationSeconds) => loop('world.runs.get, direct (in-process)', () => world.runs.get(directRunId), {
        concurrency: args.connections,
        durationSeconds: seconds
      })
    ],
    args.rounds,
    args.warmupSeconds
  )
  report(`read: ${args.rounds} x ${args.durationSeconds} s each, ${args.connections} connections`, comparison)
  const [read, , direct] = comparison.subjects
  console.log(`ratio ${read.label} / ${direct.label}: ${ratio(read.requestsPerSecond, direct.requestsPerSecond)} (req/s)`)
})
