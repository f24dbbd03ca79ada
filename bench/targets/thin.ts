/**
 * The thin baseline: a bare Fastify server (no plugins, no logger) whose routes make only the
 * World calls the worker's routes make, on the same World, with no auth, idempotency or audit:
 * `GET /runs/:id` → `world.runs.get`; `POST /runs` → the run_created event and the queue message
 * (createRun, as POST /v1/runs makes them). world-local in a temp dir, or world-postgres when the
 * benchmark says so (bench/world.ts). Prints `{ url }` on its first line; SIGTERM closes it.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import { createRun } from '../../lib/runs/create-run.js'
import { newRunId } from '../../lib/runs/trigger.js'
import { BENCH_WORKFLOW_ID, benchTargetWorld } from '../world.js'

const dir = await mkdtemp(join(tmpdir(), 'cw-bench-thin-'))
const { world } = benchTargetWorld(join(dir, 'world'))
await world.start?.()

const app = Fastify()
app.get<{ Params: { id: string } }>('/runs/:id', async (request) => await world.runs.get(request.params.id))
app.post<{ Body: { input?: unknown[] } }>('/runs', async (request, reply) => {
  const runId = newRunId()
  await createRun(world, { runId, deploymentId: 'dpl_bench', workflowName: BENCH_WORKFLOW_ID, input: request.body.input ?? [] })
  return await reply.code(202).send({ runId })
})
await app.listen({ port: 0, host: '127.0.0.1' })
console.log(JSON.stringify({ url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}` }))
process.once('SIGTERM', () => {
  void app.close().then(async () => await world.close?.()).then(async () => await rm(dir, { recursive: true, force: true })).then(() => process.exit(0))
})
