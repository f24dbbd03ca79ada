/**
 * Trigger throughput: POST /v1/runs through the worker (unique Idempotency-Keys) next to the same
 * World calls made directly in this process (createRun: the run_created event and the queue
 * message, as start() makes them); then idempotent-replay latency (one key, every answer a
 * replay) next to a bare Fastify hello-world answering the same JSON POST. Queue deliveries are
 * acknowledged in-process on both sides, so only the trigger path is measured. The worker and
 * the hello-world each run in a process of their own, autocannon in this one; subject and
 * baseline alternate, and the World's file store grows through the run on both sides.
 * Run: node --import tsx bench/trigger.ts [--seconds 5] [--rounds 3] [--connections 10] [--quick]
 */
import { createRun } from '../lib/runs/create-run.js'
import { newRunId } from '../lib/runs/trigger.js'
import { benchSession, compareMany, load, loop, report } from './load.js'
import { BENCH_INPUT, BENCH_TRIGGER_BODY, BENCH_WORKFLOW_ID } from './world.js'

await benchSession(async ({ args, hello, worker, world, headers, timing }) => {
  let counter = 0

  const triggers = await compareMany(
    (seconds = args.durationSeconds) => loop('createRun, direct (in-process)', () => createRun(world, {
      runId: newRunId(),
      deploymentId: 'dpl_bench',
      workflowName: BENCH_WORKFLOW_ID,
      input: BENCH_INPUT
    }), { concurrency: args.connections, durationSeconds: seconds }),
    [(seconds) => load({
      ...timing(seconds),
      label: 'POST /v1/runs (worker, unique keys)',
      url: `${worker.url}/v1/runs`,
      target: worker,
      method: 'POST',
      headers,
      body: BENCH_TRIGGER_BODY,
      requests: [{
        setupRequest: (request: any) => ({ ...request, headers: { ...request.headers, 'idempotency-key': `bench-${process.pid}-${counter++}` } })
      }]
    })],
    args.rounds,
    args.warmupSeconds
  )
  report(`trigger: ${args.rounds} x ${args.durationSeconds} s each, ${args.connections} connections`, triggers)

  const replayed = await fetch(`${worker.url}/v1/runs`, { method: 'POST', headers: { ...headers, 'idempotency-key': 'bench-replay' }, body: BENCH_TRIGGER_BODY })
  if (replayed.status !== 202) throw new Error(`first trigger of the replay key failed: ${replayed.status} ${await replayed.text()}`)
  const replays = await compareMany(
    (seconds) => load({ ...timing(seconds), label: 'POST / (bare Fastify hello-world, same body)', url: `${hello.url}/`, target: hello, method: 'POST', headers: { 'content-type': 'application/json' }, body: BENCH_TRIGGER_BODY }),
    [(seconds) => load({ ...timing(seconds), label: 'POST /v1/runs (worker, replay of one key)', url: `${worker.url}/v1/runs`, target: worker, method: 'POST', headers: { ...headers, 'idempotency-key': 'bench-replay' }, body: BENCH_TRIGGER_BODY })],
    args.rounds,
    args.warmupSeconds
  )
  report(`idempotent replay: ${args.rounds} x ${args.durationSeconds} s each, ${args.connections} connections`, replays)
})
