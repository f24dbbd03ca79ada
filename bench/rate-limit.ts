/**
 * The shared rate limit's cost per counted request on the PostgreSQL control plane at
 * `COMPUTE_WORKER_DATABASE_URL` (sequential, then 10 at a time), for a key whose limit is
 * `--limit` a minute (places are reserved in blocks of a sixteenth of what is left, so the
 * lower the limit, the more round trips).
 * Run: scripts/postgres-for-tests.sh sh -c 'COMPUTE_WORKER_DATABASE_URL=$COMPUTE_WORKER_TEST_POSTGRES_URL node --import tsx bench/rate-limit.ts [--requests 5000]'
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { openPostgresControlPlane } from '../lib/store/postgres/index.js'

const { values } = parseArgs({ options: { requests: { type: 'string', default: '5000' }, limit: { type: 'string', default: '1000000' } } })
const requests = Number(values.requests)
const limit = Number(values.limit)
const database = process.env.COMPUTE_WORKER_DATABASE_URL
if (database === undefined) throw new Error('set COMPUTE_WORKER_DATABASE_URL')

const dir = await mkdtemp(join(tmpdir(), 'cw-bench-rate-'))
const controlPlane = await openPostgresControlPlane(database, dir)
try {
  for (let i = 0; i < 200; i++) await controlPlane.rateLimits.hit('key:warm-up', 60_000, limit)
  let started = performance.now()
  for (let i = 0; i < requests; i++) await controlPlane.rateLimits.hit(`key:${i % 50}`, 60_000, limit)
  const sequential = (performance.now() - started) / requests
  started = performance.now()
  for (let i = 0; i < requests; i += 10) {
    await Promise.all(Array.from({ length: 10 }, async (_, j) => await controlPlane.rateLimits.hit(`key:${(i + j) % 50}`, 60_000, limit)))
  }
  const concurrent = (performance.now() - started) / requests
  console.log(JSON.stringify({ requests, limit, sequentialMsPerHit: +sequential.toFixed(3), tenAtATimeMsPerHit: +concurrent.toFixed(3) }))
} finally {
  await controlPlane.close()
  await rm(dir, { recursive: true, force: true })
}
