/**
 * The worker's store path against a thin baseline, on each backend: a bare Fastify server making
 * only the same World calls on the same World (bench/targets/thin.ts), next to the worker
 * (bench/targets/worker.ts), each in a process of its own, alternated round by round.
 *   read:    GET /v1/runs/:id with a bearer key  vs  GET /runs/:id (world.runs.get)
 *   trigger: POST /v1/runs, unique Idempotency-Keys  vs  POST /runs (run_created + queue message)
 * Backends: `sqlite` (world-local in a temp dir, the SQLite control plane) and `postgres`
 * (world-postgres and the PostgreSQL control plane on one database, from
 * COMPUTE_WORKER_BENCH_POSTGRES_URL, else COMPUTE_WORKER_TEST_POSTGRES_URL), e.g. on a throwaway
 * cluster:
 *   scripts/postgres-for-tests.sh node --import tsx bench/store-path.ts [--backend sqlite,postgres]
 *     [--seconds 5] [--rounds 3] [--connections 10] [--quick]
 * Without a URL only `sqlite` runs. Each ratio is worker/thin for req/s, thin/worker for CPU per
 * request (both: 1 is as cheap as the baseline, higher is better).
 */
import { parseArgs } from 'node:util'
import { migratePostgresWorld } from '../lib/world/postgres.js'
import { benchArgs, compareMany, load, machine, ratio, report, startTarget, type Comparison, type Target } from './load.js'
import { BENCH_TRIGGER_BODY, postgresTargetEnv } from './world.js'

type Backend = 'sqlite' | 'postgres'

const args = benchArgs()
const postgresUrl = process.env.COMPUTE_WORKER_BENCH_POSTGRES_URL || process.env.COMPUTE_WORKER_TEST_POSTGRES_URL || undefined
const { values } = parseArgs({ options: { backend: { type: 'string' } }, strict: false })
const backends = (typeof values.backend === 'string' ? values.backend.split(',') : postgresUrl !== undefined ? ['sqlite', 'postgres'] : ['sqlite']) as Backend[]
if (backends.includes('postgres') && postgresUrl === undefined) {
  throw new Error('--backend postgres needs COMPUTE_WORKER_BENCH_POSTGRES_URL (or run under scripts/postgres-for-tests.sh)')
}

async function ok (response: Promise<Response>, status: number): Promise<Record<string, unknown>> {
  const answer = await response
  if (answer.status !== status) throw new Error(`expected ${status}, got ${answer.status}: ${await answer.text()}`)
  return await answer.json() as Record<string, unknown>
}

function efficiency (backend: Backend, what: string, comparison: Comparison): string {
  const [subject] = comparison.subjects
  const cpu = subject.cpuMicrosPerRequest !== undefined && comparison.baseline.cpuMicrosPerRequest !== undefined
    ? ratio(comparison.baseline.cpuMicrosPerRequest, subject.cpuMicrosPerRequest)
    : NaN
  return `ratio ${backend} ${what} worker/thin: ${comparison.ratios[0]} (req/s), ${cpu} (thin CPU/req over worker CPU/req)`
}

async function bench (backend: Backend): Promise<string[]> {
  const env = backend === 'postgres' ? postgresTargetEnv(postgresUrl!) : {}
  if (backend === 'postgres') await migratePostgresWorld(postgresUrl!)
  const thin = await startTarget('thin', env)
  let worker: Target | undefined
  try {
    worker = await startTarget('worker', env)
    const auth = { authorization: `Bearer ${worker.info.key as string}` }
    const json = { 'content-type': 'application/json' }
    const workerRun = await ok(fetch(`${worker.url}/v1/runs`, { method: 'POST', headers: { ...auth, ...json, 'idempotency-key': `bench-read-${process.pid}` }, body: BENCH_TRIGGER_BODY }), 202)
    const thinRun = await ok(fetch(`${thin.url}/runs`, { method: 'POST', headers: json, body: BENCH_TRIGGER_BODY }), 202)
    const timing = (durationSeconds = args.durationSeconds) => ({ durationSeconds, connections: args.connections })
    const subject = worker

    const reads = await compareMany(
      (seconds) => load({ ...timing(seconds), label: `GET /runs/:id (thin, ${backend})`, url: `${thin.url}/runs/${thinRun.runId as string}`, target: thin }),
      [(seconds) => load({ ...timing(seconds), label: `GET /v1/runs/:id (worker, bearer key, ${backend})`, url: `${subject.url}/v1/runs/${workerRun.runId as string}`, headers: auth, target: subject })],
      args.rounds,
      args.warmupSeconds
    )
    report(`${backend} read: ${args.rounds} x ${args.durationSeconds} s each, ${args.connections} connections`, reads)

    let counter = 0
    const triggers = await compareMany(
      (seconds) => load({ ...timing(seconds), label: `POST /runs (thin, ${backend})`, url: `${thin.url}/runs`, target: thin, method: 'POST', headers: json, body: BENCH_TRIGGER_BODY }),
      [(seconds) => load({
        ...timing(seconds),
        label: `POST /v1/runs (worker, unique keys, ${backend})`,
        url: `${subject.url}/v1/runs`,
        target: subject,
        method: 'POST',
        headers: { ...auth, ...json },
        body: BENCH_TRIGGER_BODY,
        requests: [{ setupRequest: (request: any) => ({ ...request, headers: { ...request.headers, 'idempotency-key': `bench-${process.pid}-${counter++}` } }) }]
      })],
      args.rounds,
      args.warmupSeconds
    )
    report(`${backend} trigger: ${args.rounds} x ${args.durationSeconds} s each, ${args.connections} connections`, triggers)
    return [efficiency(backend, 'read', reads), efficiency(backend, 'trigger', triggers)]
  } finally {
    await worker?.stop()
    await thin.stop()
  }
}

console.log(`machine: ${machine()}`)
const summary: string[] = []
for (const backend of backends) summary.push(...await bench(backend))
console.log(`\n# summary\nmachine after: ${machine()}`)
for (const line of summary) console.log(line)
