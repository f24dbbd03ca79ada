import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createLocalWorld } from '@workflow/world-local'
import type { FastifyInstance } from 'fastify'
import { buildComputeWorkerApp } from '../server.js'
import type { ComputeWorkerOptions, SeedApiKey } from '../lib/options.js'
import { SCOPES } from '../lib/scopes.js'
import type { SqliteDatabase } from '../lib/store/sqlite/database.js'
import { SqliteControlPlane } from '../lib/store/sqlite/index.js'

/** Keys every test app is seeded with: one with every scope, one per scope. */
export const KEYS = {
  admin: 'test-key-admin-00000000000000000001',
  triggerWrite: 'test-key-trigger-write-000000000001',
  runsRead: 'test-key-runs-read-00000000000000001',
  runsWrite: 'test-key-runs-write-0000000000000001',
  deployRead: 'test-key-deploy-read-000000000000001',
  deployWrite: 'test-key-deploy-write-00000000000001',
  worldProxy: 'test-key-world-proxy-000000000000001',
  auditRead: 'test-key-audit-read-00000000000000001',
  metricsRead: 'test-key-metrics-read-00000000000001',
  none: 'test-key-no-scopes-00000000000000001'
} as const

export const SEED_KEYS: SeedApiKey[] = [
  { key: KEYS.admin, scopes: [...SCOPES], name: 'admin' },
  { key: KEYS.triggerWrite, scopes: ['trigger:write'], name: 'trigger' },
  { key: KEYS.runsRead, scopes: ['runs:read'], name: 'runs-read' },
  { key: KEYS.runsWrite, scopes: ['runs:write'], name: 'runs-write' },
  { key: KEYS.deployRead, scopes: ['deploy:read'], name: 'deploy-read' },
  { key: KEYS.deployWrite, scopes: ['deploy:write'], name: 'deploy-write' },
  { key: KEYS.worldProxy, scopes: ['world:proxy'], name: 'world-proxy' },
  { key: KEYS.auditRead, scopes: ['audit:read'], name: 'audit-read' },
  { key: KEYS.metricsRead, scopes: ['metrics:read'], name: 'metrics-read' },
  { key: KEYS.none, scopes: [], name: 'no-scopes' }
]

export function bearer (key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` }
}

/** Polls `check` every 50 ms until it answers something other than undefined (for up to a minute). */
export async function until<T> (check: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 1200; i++) {
    const value = await check()
    if (value !== undefined) return value
    await sleep(50)
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** A fresh temporary directory, removed after the test. */
export async function tempDir (t: TestContext, prefix = 'cw-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  // Retried: an app closed by a later hook may still be writing into it (after hooks run in order).
  t.after(() => rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }))
  return dir
}

export interface TestApp {
  app: FastifyInstance
  dir: string
  options: ComputeWorkerOptions
}

/**
 * Options of a worker on a real world-local and a real SQLite file, both in a temp dir.
 * The World is not started; whoever builds the app starts and closes it.
 */
export async function testOptions (t: TestContext, overrides: Partial<ComputeWorkerOptions> = {}): Promise<{ options: ComputeWorkerOptions, dir: string }> {
  const dir = await tempDir(t)
  const world = overrides.world ?? createLocalWorld({ dataDir: join(dir, 'world') })
  return {
    dir,
    options: {
      world,
      sqlitePath: join(dir, 'worker.db'),
      artifactDir: join(dir, 'artifacts'),
      seedApiKeys: SEED_KEYS,
      ...overrides
    }
  }
}

/**
 * A ready worker app for `inject`, closed after the test. `extend` may add routes before the
 * app is ready: the worker's hooks sit at the root, so they apply to those routes too.
 */
export async function build (
  t: TestContext,
  overrides: Partial<ComputeWorkerOptions> = {},
  extend?: (app: FastifyInstance) => void
): Promise<TestApp> {
  const { options, dir } = await testOptions(t, overrides)
  const app = buildComputeWorkerApp(options)
  t.after(() => app.close())
  extend?.(app)
  await app.ready()
  return { app, dir, options }
}

/** Breaks the test World's run storage for real: world-local's runs directory becomes a plain file. */
export async function breakLocalWorldRuns (dir: string): Promise<void> {
  const runsDir = join(dir, 'world', 'runs')
  await rm(runsDir, { recursive: true, force: true })
  await writeFile(runsDir, 'not a directory')
}

/** The SQLite handle under a test app's control plane, for tests that inspect rows or inject faults. */
export function sqliteOf (app: FastifyInstance): SqliteDatabase {
  const controlPlane = app.controlPlane
  if (!(controlPlane instanceof SqliteControlPlane)) throw new Error('this test needs the SQLite control plane')
  return controlPlane.database
}
