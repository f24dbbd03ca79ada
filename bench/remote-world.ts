/**
 * The remote World next to the local one, same script, same run: latency of `events.create`
 * and of a trivial run (one step, `greet`) end to end through the SDK runtime.
 *   local:  world-local in this process.
 *   remote: createRemoteWorld → the standalone worker (its own process, COMPUTE_WORKER_COMPUTE=none,
 *           world-local delivering back to this process) over loopback HTTP, CBOR.
 * The runtime and the real `wf build` bundles run here in both cases; rounds alternate.
 * Run: npm run build && node --import tsx bench/remote-world.ts [--events 300] [--runs 30] [--rounds 3] [--quick]
 */
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { EventResult, World } from '@workflow/world'
import { createLocalWorld } from '@workflow/world-local'
import { start } from 'workflow/api'
import { setWorld } from 'workflow/runtime'
import { createRemoteWorld } from '../lib/client/index.js'
import { buildFixtureApp } from '../test/fixtures/build.js'

const { values } = parseArgs({
  options: { events: { type: 'string' }, runs: { type: 'string' }, rounds: { type: 'string' }, quick: { type: 'boolean', default: false } }
})
const quick = values.quick === true
const EVENTS = Number(values.events ?? (quick ? 30 : 300))
const RUNS = Number(values.runs ?? (quick ? 3 : 30))
const ROUNDS = Number(values.rounds ?? (quick ? 1 : 3))
const API_KEY = 'bench-runtime-key-000000000000000001'
const DELIVERY_SECRET = 'bench-delivery-secret-0000000000000001'
const GREET = 'workflow//./workflows/demo//greet'

type Handler = (request: Request) => Promise<Response>

function stats (label: string, samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
  const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length
  return { label, n: sorted.length, p50: at(0.5), p95: at(0.95), mean }
}

/** The app side: the build's flow/step handlers over HTTP, where both Worlds deliver. */
async function startApp (handlers: Record<string, Handler>): Promise<string> {
  const server = createServer(async (req, res) => {
    const kind = req.url?.endsWith('/flow') ? 'flow' : 'step'
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk)
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([, value]) => typeof value === 'string')) as Record<string, string>
    const response = await handlers[kind](new Request(`http://app${req.url}`, { method: 'POST', headers, body: Buffer.concat(chunks) }))
    res.writeHead(response.status, Object.fromEntries(response.headers)).end(Buffer.from(await response.arrayBuffer()))
  })
  server.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  server.unref()
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function startWorker (dir: string, appUrl: string): Promise<{ url: string, stop: () => void }> {
  const child = spawn(process.execPath, [join(import.meta.dirname, '../dist/bin/compute-worker.js')], {
    env: {
      ...process.env,
      PORT: '0',
      COMPUTE_WORKER_COMPUTE: 'none',
      COMPUTE_WORKER_SQLITE_PATH: join(dir, 'worker.db'),
      WORKFLOW_LOCAL_DATA_DIR: join(dir, 'worker-world'),
      WORKFLOW_LOCAL_BASE_URL: appUrl,
      COMPUTE_WORKER_DELIVERY_SECRET: DELIVERY_SECRET,
      COMPUTE_WORKER_API_KEYS: JSON.stringify([{ key: API_KEY, scopes: ['world:proxy'], rateLimitPerMinute: 10_000_000 }])
    },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const url = await new Promise<string>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      const match = /Server listening at (http:\/\/[^"]+)/.exec(chunk.toString())
      if (match !== null) resolve(match[1])
    })
  })
  return { url, stop: () => child.kill('SIGTERM') }
}

/** Resolves when the runtime records the run's end (instrumentation of the World object, no polling). */
function withRunEnds (world: World): { world: World, ended: (runId: string) => Promise<void> } {
  const waiting = new Map<string, () => void>()
  const create = world.events.create.bind(world.events)
  world.events.create = (async (runId: string | null, data: { eventType: string }, params?: object) => {
    const result: EventResult = await (create as any)(runId, data, params)
    if (runId !== null && (data.eventType === 'run_completed' || data.eventType === 'run_failed')) waiting.get(runId)?.()
    return result
  }) as World['events']['create']
  return { world, ended: (runId) => new Promise((resolve) => waiting.set(runId, resolve)) }
}

async function eventsCreateLatency (world: World, count: number): Promise<number[]> {
  const { run } = await world.events.create(null, {
    eventType: 'run_created', specVersion: 3, eventData: { deploymentId: 'dpl_bench', workflowName: 'bench', input: new Uint8Array([1]) }
  })
  await world.events.create(run!.runId, { eventType: 'run_started', specVersion: 3 })
  const samples: number[] = []
  for (let i = 0; samples.length < count; i++) {
    const correlationId = `step_${String(i).padStart(6, '0')}`
    const calls = [
      { eventType: 'step_created', specVersion: 3, correlationId, eventData: { stepName: 's', input: new Uint8Array(64) } },
      { eventType: 'step_started', specVersion: 3, correlationId },
      { eventType: 'step_completed', specVersion: 3, correlationId, eventData: { result: new Uint8Array(64) } }
    ] as const
    for (const data of calls) {
      const started = performance.now()
      await world.events.create(run!.runId, data as any)
      samples.push(performance.now() - started)
    }
  }
  return samples
}

async function trivialRunLatency (target: ReturnType<typeof withRunEnds>, count: number): Promise<number[]> {
  setWorld(target.world)
  const samples: number[] = []
  for (let i = 0; i < count; i++) {
    const started = performance.now()
    const run = await start({ workflowId: GREET } as any, [`bench-${i}`])
    await target.ended(run.runId)
    samples.push(performance.now() - started)
  }
  return samples
}

const dir = await mkdtemp(join(tmpdir(), 'cw-bench-remote-'))
const handlers: Record<string, Handler> = {}
const appUrl = await startApp(handlers)
const worker = await startWorker(dir, appUrl)
try {
  const local = withRunEnds(createLocalWorld({ dataDir: join(dir, 'local-world'), baseUrl: appUrl }))
  const remote = withRunEnds(createRemoteWorld({ baseUrl: worker.url, apiKey: API_KEY, deliverySecret: DELIVERY_SECRET }))
  await local.world.start?.()
  await remote.world.start?.()
  setWorld(local.world)
  const build = await buildFixtureApp()
  writeFileSync(join(build.dir, 'package.json'), '{"type":"commonjs"}')
  const require = createRequire(import.meta.url)
  handlers.flow = require(join(build.dir, 'flow.js')).POST
  handlers.step = require(join(build.dir, 'step.js')).POST

  // Warm-up: module loading, connection pools, JIT.
  await eventsCreateLatency(local.world, 30)
  await eventsCreateLatency(remote.world, 30)
  await trivialRunLatency(local, 3)
  await trivialRunLatency(remote, 3)

  const samples = { localEvents: [] as number[], remoteEvents: [] as number[], localRuns: [] as number[], remoteRuns: [] as number[] }
  for (let round = 0; round < ROUNDS; round++) {
    samples.localEvents.push(...await eventsCreateLatency(local.world, EVENTS))
    samples.remoteEvents.push(...await eventsCreateLatency(remote.world, EVENTS))
    samples.localRuns.push(...await trivialRunLatency(local, RUNS))
    samples.remoteRuns.push(...await trivialRunLatency(remote, RUNS))
  }
  const rows = [
    stats('events.create, local World', samples.localEvents),
    stats('events.create, remote World', samples.remoteEvents),
    stats('trivial run (greet), local World', samples.localRuns),
    stats('trivial run (greet), remote World', samples.remoteRuns)
  ]
  console.log('| measurement | n | p50 ms | p95 ms | mean ms |')
  console.log('|---|---|---|---|---|')
  for (const row of rows) console.log(`| ${row.label} | ${row.n} | ${row.p50.toFixed(2)} | ${row.p95.toFixed(2)} | ${row.mean.toFixed(2)} |`)
  console.log(`ratio events.create remote / local: ${(rows[1].p50 / rows[0].p50).toFixed(2)} (p50 latency)`)
  console.log(`ratio trivial run remote / local: ${(rows[3].p50 / rows[2].p50).toFixed(2)} (p50 latency)`)
  await local.world.close?.()
  await remote.world.close?.()
} finally {
  worker.stop()
  await rm(dir, { recursive: true, force: true })
}
process.exit(0)
