/**
 * GET /v1/health through a listening worker (world-local + SQLite) against a bare Fastify
 * hello-world on the same machine, alternated in one script; plus start-up times.
 * Run: node --import tsx bench/health.ts [--seconds 5] [--rounds 3]
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createLocalWorld } from '@workflow/world-local'
import Fastify from 'fastify'
import { startNodeComputeWorkerServer } from '../server.js'
import { compare, load, printTable } from './load.js'

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, rounds: { type: 'string', default: '3' } } })
const durationSeconds = Number(values.seconds)
const rounds = Number(values.rounds)

async function standaloneStartupMs (dir: string): Promise<number> {
  const started = performance.now()
  const child = spawn(process.execPath, [join(import.meta.dirname, '../dist/bin/compute-worker.js')], {
    env: {
      ...process.env,
      PORT: '0',
      COMPUTE_WORKER_COMPUTE: 'none',
      COMPUTE_WORKER_SQLITE_PATH: join(dir, 'standalone.db'),
      WORKFLOW_LOCAL_DATA_DIR: join(dir, 'standalone-world')
    },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const url = await new Promise<string>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      const match = /Server listening at (http:\/\/[^"]+)/.exec(chunk.toString())
      if (match !== null) resolve(match[1])
    })
  })
  await fetch(`${url}/v1/health`)
  const elapsed = performance.now() - started
  child.kill('SIGTERM')
  return elapsed
}

const dir = await mkdtemp(join(tmpdir(), 'cw-bench-health-'))
try {
  const bare = Fastify()
  bare.get('/', async () => ({ hello: 'world' }))
  await bare.listen({ port: 0, host: '127.0.0.1' })
  const bareUrl = `http://127.0.0.1:${(bare.server.address() as { port: number }).port}/`

  const startedAt = performance.now()
  const worker = await startNodeComputeWorkerServer({
    world: createLocalWorld({ dataDir: join(dir, 'world') }),
    sqlitePath: join(dir, 'worker.db'),
    port: 0
  })
  const inProcessStartupMs = performance.now() - startedAt

  const { subject, baseline, ratio } = await compare(
    () => load({ label: 'GET /v1/health (worker)', url: `${worker.url}/v1/health`, durationSeconds }),
    () => load({ label: 'GET / (bare Fastify hello-world)', url: bareUrl, durationSeconds }),
    rounds
  )
  printTable([subject, baseline])
  console.log(`ratio worker/bare: ${ratio}`)
  console.log(`start-up, in process (startNodeComputeWorkerServer until listening): ${inProcessStartupMs.toFixed(0)} ms`)
  console.log(`start-up, standalone process (spawn until the first /v1/health answer): ${(await standaloneStartupMs(dir)).toFixed(0)} ms`)
  await worker.close()
  await bare.close()
} finally {
  await rm(dir, { recursive: true, force: true })
}
