/**
 * GET /v1/health through the worker (world-local + SQLite; it asks the World and the database
 * each time) against a bare Fastify hello-world, alternated in one run; plus start-up times.
 * The worker and the hello-world each run in a process of their own, autocannon in this one.
 * Run: node --import tsx bench/health.ts [--seconds 5] [--rounds 3] [--connections 10] [--quick]
 * (the standalone start-up time needs `npm run build`; it is skipped without dist/)
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLocalWorld } from '@workflow/world-local'
import { startNodeComputeWorkerServer } from '../server.js'
import { benchSession, compareMany, load, report } from './load.js'

const BIN = join(import.meta.dirname, '../dist/bin/compute-worker.js')

async function standaloneStartupMs (dir: string): Promise<number> {
  const started = performance.now()
  const child = spawn(process.execPath, [BIN], {
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
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
  return elapsed
}

await benchSession(async ({ args, hello, worker, timing }) => {
  report(`health: ${args.rounds} x ${args.durationSeconds} s each, ${args.connections} connections`, await compareMany(
    (seconds) => load({ ...timing(seconds), label: 'GET / (bare Fastify hello-world)', url: `${hello.url}/`, target: hello }),
    [(seconds) => load({ ...timing(seconds), label: 'GET /v1/health (worker)', url: `${worker.url}/v1/health`, target: worker })],
    args.rounds,
    args.warmupSeconds
  ))
})

const dir = await mkdtemp(join(tmpdir(), 'cw-bench-health-'))
try {
  const startedAt = performance.now()
  const inProcess = await startNodeComputeWorkerServer({
    world: createLocalWorld({ dataDir: join(dir, 'world') }),
    sqlitePath: join(dir, 'worker.db'),
    port: 0
  })
  console.log(`start-up, in process (startNodeComputeWorkerServer until listening, modules already loaded): ${(performance.now() - startedAt).toFixed(0)} ms`)
  await inProcess.close()
  if (existsSync(BIN)) {
    console.log(`start-up, standalone process (spawn until the first /v1/health answer): ${(await standaloneStartupMs(dir)).toFixed(0)} ms`)
  } else {
    console.log('start-up, standalone process: skipped (no dist/: run npm run build)')
  }
} finally {
  await rm(dir, { recursive: true, force: true })
}
