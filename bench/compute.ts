/**
 * Throughput of the in-process executor against the SDK's own bare host loop, on the same build.
 *
 *   node --import tsx bench/compute.ts [--runs 100,1000] [--workflow greet] [--repeat 3] [--world postgres]
 *
 * bare:   world-local with in-process delivery (registerHandler), the build's flow.js/step.js
 *         loaded in the main realm: what a single-app host does.
 * worker: the compute worker (world-local, createInProcessCompute), the build deployed in its
 *         artifact folder and run in its own thread.
 * With `--world postgres` both run on world-postgres instead, in a fresh database each (on the
 * cluster of COMPUTE_WORKER_BENCH_POSTGRES_URL, else COMPUTE_WORKER_TEST_POSTGRES_URL: e.g. under
 * scripts/postgres-for-tests.sh), where the queue delivers over HTTP: the bare host serves the
 * SDK's flow and step handlers on a node:http server, the worker (with its control plane in the
 * same database, the build uploaded through POST /v1/deployments) serves its own.
 * Each measurement runs in a fresh process that listens on a port, as a host does: N runs started
 * at once, timed until all completed, after one warm-up run (bundles loaded). Reported: median
 * of --repeat, and worker/bare.
 */
import { spawn } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { World } from '@workflow/world'
import { createLocalWorld } from '@workflow/world-local'
import { start } from 'workflow/api'
import pg from 'pg'
import { setWorld } from 'workflow/runtime'
import { createInProcessCompute } from '../lib/compute/index.js'
import { createPostgresWorld, migratePostgresWorld, postgresSettingsFromEnv } from '../lib/world/postgres.js'
import { buildComputeWorkerApp } from '../server.js'
import { buildFixtureApp, type FixtureBuild } from '../test/fixtures/build.js'

type Mode = 'bare' | 'worker'

const ARGS = {
  mode: { type: 'string' },
  runs: { type: 'string', default: '100,1000' },
  workflow: { type: 'string', default: 'greet' },
  repeat: { type: 'string', default: '3' },
  world: { type: 'string', default: 'local' }
} as const

type WorldKind = 'local' | 'postgres'
const POSTGRES_URL = process.env.COMPUTE_WORKER_BENCH_POSTGRES_URL || process.env.COMPUTE_WORKER_TEST_POSTGRES_URL || undefined
const BENCH_KEY = 'bench-key-0000000000000000000000001'

/** A database of its own on the cluster of POSTGRES_URL, its World schema set up; dropped by `drop`. */
async function freshPostgresDatabase (): Promise<{ url: string, drop: () => Promise<void> }> {
  if (POSTGRES_URL === undefined) throw new Error('--world postgres needs COMPUTE_WORKER_BENCH_POSTGRES_URL (or run under scripts/postgres-for-tests.sh)')
  const name = `cw_bench_${process.pid}_${Date.now()}`
  const admin = async (sql: string): Promise<void> => {
    const client = new pg.Client({ connectionString: POSTGRES_URL })
    await client.connect()
    try { await client.query(sql) } finally { await client.end() }
  }
  await admin(`CREATE DATABASE ${name}`)
  const url = new URL(POSTGRES_URL)
  url.pathname = `/${name}`
  await migratePostgresWorld(url.toString())
  return { url: url.toString(), drop: async () => { await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) } }
}

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** The SDK's flow and step handlers over HTTP, as a host serves them to world-postgres's queue. */
type Handler = (request: Request) => Promise<Response>

/** The build's flow and step handlers, loaded as the SDK's own host loads them (CommonJS, from a copy). */
async function loadBareHandlers (dir: string, buildDir: string): Promise<{ flow: Handler, step: Handler }> {
  const app = join(dir, 'app')
  await mkdir(app)
  await writeFile(join(app, 'package.json'), '{"type":"commonjs"}')
  for (const name of ['flow.js', 'step.js']) await copyFile(join(buildDir, name), join(app, name))
  const load = createRequire(join(app, 'index.js'))
  return { flow: (load('./flow.js') as { POST: Handler }).POST, step: (load('./step.js') as { POST: Handler }).POST }
}

function serveHandlers (handlers: Record<'flow' | 'step', (request: Request) => Promise<Response>>): Server {
  return createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const handler = request.url?.includes('/step') === true ? handlers.step : handlers.flow
      const headers = new Headers()
      for (const [name, value] of Object.entries(request.headers)) if (typeof value === 'string') headers.set(name, value)
      void handler(new Request(`http://127.0.0.1${request.url ?? '/'}`, { method: request.method, headers, body: Buffer.concat(chunks) }))
        .then(async (answer) => {
          response.writeHead(answer.status, Object.fromEntries(answer.headers.entries()))
          response.end(Buffer.from(await answer.arrayBuffer()))
        }, (error: unknown) => {
          response.writeHead(500)
          response.end(String(error))
        })
    })
  })
}

const INPUTS: Record<string, unknown[]> = { greet: ['bench'], sum: [1, 2] }

function workflowIdOf (build: FixtureBuild, name: string): string {
  return build.manifest.workflows['workflows/demo.ts'][name].workflowId
}

/**
 * Resolves runs as their run_completed event is recorded. Polling the World for 1,000 runs would
 * load it more than the runs themselves; both setups call this same World object (the worker's
 * threads through the main thread), so wrapping events.create sees every completion.
 */
function observeCompletions (world: World): (runIds: string[]) => Promise<void> {
  const done = new Map<string, () => void>()
  const finished = new Set<string>()
  const create = world.events.create.bind(world.events) as (...args: unknown[]) => Promise<unknown>
  world.events.create = (async (...args: unknown[]) => {
    const result = await create(...args)
    const [runId, event] = args as [string, { eventType: string }]
    if (event.eventType === 'run_completed') {
      finished.add(runId)
      done.get(runId)?.()
    } else if (event.eventType === 'run_failed') {
      console.error(`run ${runId} failed`)
      process.exit(1)
    }
    return result
  }) as World['events']['create']
  return async (runIds) => {
    await Promise.all(runIds.map(async (runId) => {
      if (!finished.has(runId)) await new Promise<void>((resolve) => done.set(runId, resolve))
    }))
  }
}

/** One measurement in this process: prints `{ ms }` as JSON on the last line. */
async function measure (mode: Mode, count: number, workflow: string, worldKind: WorldKind): Promise<void> {
  const build = await buildFixtureApp('A')
  const dir = await mkdtemp(join(tmpdir(), 'cw-bench-'))
  const id = workflowIdOf(build, workflow)
  let world: World
  let deploymentId: string | undefined
  let close: () => Promise<void>
  let waitAll: (runIds: string[]) => Promise<void>
  const database = worldKind === 'postgres' ? await freshPostgresDatabase() : undefined

  if (database !== undefined) {
    // world-postgres's queue delivers to WORKFLOW_LOCAL_BASE_URL, read when it starts.
    const port = await freePort()
    process.env.WORKFLOW_LOCAL_BASE_URL = `http://127.0.0.1:${port}`
    // Both sides take world-postgres's own settings (WORKFLOW_POSTGRES_WORKER_CONCURRENCY, _MAX_POOL_SIZE).
    world = createPostgresWorld({ ...postgresSettingsFromEnv(process.env), connectionString: database.url })
    waitAll = observeCompletions(world)
    if (mode === 'bare') {
      setWorld(world)
      const { flow, step } = await loadBareHandlers(dir, build.dir)
      const server = serveHandlers({ flow, step })
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
      await world.start?.()
      close = async () => {
        server.close()
        await world.close?.()
      }
    } else {
      const app = buildComputeWorkerApp({
        world,
        compute: createInProcessCompute(),
        database: database.url,
        artifactDir: join(dir, 'artifacts'),
        seedApiKeys: [{ key: BENCH_KEY, scopes: ['deploy:write'] }]
      })
      await app.listen({ port, host: '127.0.0.1' })
      const files: Record<string, string> = {}
      for (const name of ['flow.js', 'step.js']) files[name] = (await readFile(join(build.dir, name))).toString('base64')
      const uploaded = await app.inject({ method: 'POST', url: '/v1/deployments', headers: { authorization: `Bearer ${BENCH_KEY}` }, payload: { manifest: build.manifest, files } })
      if (uploaded.statusCode !== 201) throw new Error(`upload failed: ${uploaded.statusCode} ${uploaded.body}`)
      deploymentId = (uploaded.json() as { id: string }).id
      setWorld(world)
      close = async () => { await app.close() }
    }
  } else if (mode === 'bare') {
    world = createLocalWorld({ dataDir: join(dir, 'world') })
    waitAll = observeCompletions(world)
    setWorld(world)
    const { flow, step } = await loadBareHandlers(dir, build.dir)
    const local = world as World & { registerHandler: (prefix: string, handler: (request: Request) => Promise<Response>) => void }
    local.registerHandler('__wkf_workflow_', flow)
    local.registerHandler('__wkf_step_', step)
    await world.start?.()
    // A host listens (the SDK's step context looks its port up once it does, and caches it).
    const server = createServer((_request, response) => response.end())
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    close = async () => {
      server.close()
      await world.close?.()
    }
  } else {
    deploymentId = 'dpl_bench'
    await mkdir(join(dir, 'artifacts', deploymentId), { recursive: true })
    for (const name of ['flow.js', 'step.js', 'manifest.json']) await copyFile(join(build.dir, name), join(dir, 'artifacts', deploymentId, name))
    world = createLocalWorld({ dataDir: join(dir, 'world') })
    waitAll = observeCompletions(world)
    const app = buildComputeWorkerApp({
      world,
      compute: createInProcessCompute(),
      sqlitePath: join(dir, 'worker.db'),
      artifactDir: join(dir, 'artifacts')
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    setWorld(world)
    close = async () => { await app.close() }
  }

  const options = deploymentId === undefined ? { world } : { world, deploymentId }
  const trigger = async (): Promise<string> => (await start({ workflowId: id } as never, INPUTS[workflow] ?? [], options as never)).runId
  await waitAll([await trigger()]) // warm-up: bundles loaded, thread started
  const started = performance.now()
  const runIds = await Promise.all(Array.from({ length: count }, trigger))
  await waitAll(runIds)
  const ms = performance.now() - started
  await close()
  await database?.drop()
  await rm(dir, { recursive: true, force: true })
  console.log(JSON.stringify({ ms }))
}

async function child (mode: Mode, count: number, workflow: string, worldKind: WorldKind): Promise<number> {
  const script = fileURLToPath(import.meta.url)
  const proc = spawn(process.execPath, [...process.execArgv, script, '--mode', mode, '--runs', String(count), '--workflow', workflow, '--world', worldKind], {
    stdio: ['ignore', 'pipe', 'inherit']
  })
  let out = ''
  proc.stdout.on('data', (chunk) => { out += chunk })
  const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve))
  const last = out.trim().split('\n').at(-1) ?? ''
  if (code !== 0 || !last.startsWith('{')) throw new Error(`${mode} ${count} failed (exit ${code}):\n${out}`)
  return (JSON.parse(last) as { ms: number }).ms
}

const median = (values: number[]): number => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]

async function main (): Promise<void> {
  const { values } = parseArgs({ options: ARGS })
  const workflow = values.workflow
  if (values.mode !== undefined) {
    await measure(values.mode as Mode, Number(values.runs), workflow, values.world as WorldKind)
    return
  }
  await buildFixtureApp('A') // built once, before any timing
  const repeat = Number(values.repeat)
  const worldKind = values.world as WorldKind
  console.log(`workflow ${workflow} on world-${worldKind}, median of ${repeat}, each in a fresh process (node ${process.version})`)
  console.log('runs   bare ms   worker ms   worker runs/s   worker/bare')
  const summary: string[] = []
  for (const count of values.runs.split(',').map(Number)) {
    const bare: number[] = []
    const worker: number[] = []
    for (let i = 0; i < repeat; i++) {
      bare.push(await child('bare', count, workflow, worldKind))
      worker.push(await child('worker', count, workflow, worldKind))
    }
    const b = median(bare)
    const w = median(worker)
    console.log(`${String(count).padEnd(6)} ${b.toFixed(0).padStart(8)} ${w.toFixed(0).padStart(11)} ${(count / (w / 1000)).toFixed(0).padStart(15)} ${(w / b).toFixed(2).padStart(13)}`)
    summary.push(`ratio worker / bare, world-${worldKind}, ${count} runs: ${(w / b).toFixed(2)} (time until all completed)`)
  }
  for (const line of summary) console.log(line)
}

await main()
