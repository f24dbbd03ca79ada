import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'
import { buildComputeWorkerApp } from '../../server.js'
import { loggerOptions } from '../../lib/logging.js'
import { enforceStrictRemoteGuard } from '../../lib/strict-guard.js'
import { createWorldForTarget } from '../../lib/world/create-world.js'
import { migratePostgresWorld } from '../../lib/world/postgres.js'
import { createInProcessCompute } from '../../lib/compute/index.js'
import type { ComputeExecutor } from '../../lib/compute/types.js'
import { readStandaloneSettings, type StandaloneSettings } from '../env.js'
import { deliveryOrigin, freePort } from '../net.js'
import { startTracing } from '../tracing.js'

const GRACE_MS = 10_000
const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const

/** The executor the standalone server runs with, from COMPUTE_WORKER_COMPUTE. */
function createCompute (settings: StandaloneSettings): ComputeExecutor | undefined {
  if (settings.compute === 'none') return undefined
  return createInProcessCompute({
    artifactDir: settings.options.artifactDir,
    deliverySecret: settings.deliverySecret,
    maxLoadedDeployments: settings.inProcess.maxLoadedDeployments,
    threadMemoryMb: settings.inProcess.threadMemoryMb
  })
}

/** `compute-worker` / `compute-worker serve`: the standalone server, configured from env. */
export async function serve (): Promise<void> {
  const started = Date.now()
  const settings = readStandaloneSettings()
  // Checked here too so a misconfigured production start fails before touching any database.
  enforceStrictRemoteGuard({
    nodeEnv: settings.nodeEnv,
    expectedTargetWorld: settings.options.expectedTargetWorld,
    targetWorld: settings.targetWorld,
    warn: () => {}
  })
  // First: the World and the executor trace through the provider it registers.
  const tracing = settings.tracing === undefined ? undefined : await startTracing(settings.tracing)
  let port = settings.port
  if (settings.postgres !== undefined) {
    // Fails start-up fast when PostgreSQL is unreachable: world-postgres 4.3.7 cannot be created
    // without it (its stream LISTEN connection is opened at creation, unhandled).
    await migratePostgresWorld(settings.postgres.connectionString)
    // world-postgres delivers queue jobs by HTTP to WORKFLOW_LOCAL_BASE_URL, else to localhost:PORT,
    // read when its queue starts (on ready, before listening): PORT=0 must be a real port by then.
    if (settings.localBaseUrl === undefined) {
      if (port === 0) port = await freePort(settings.host)
      process.env.WORKFLOW_LOCAL_BASE_URL = deliveryOrigin(settings.host, port)
    }
  }
  // eslint-disable-next-line prefer-const -- the World's callback below reads it once the app exists
  let app: FastifyInstance | undefined
  const world = createWorldForTarget({
    target: settings.targetWorld,
    localDataDir: settings.localDataDir,
    localBaseUrl: settings.localBaseUrl,
    postgres: settings.postgres,
    deliverySecret: settings.deliverySecret,
    onConnectionError: (err) => app?.log.warn({ err }, 'a World database connection failed; it is replaced on next use')
  })
  const compute = createCompute(settings)
  app = buildComputeWorkerApp({
    ...settings.options,
    world,
    compute,
    logger: loggerOptions(settings.logLevel)
  })

  const running = app
  let stopSignal: typeof STOP_SIGNALS[number] | undefined
  const shutdown = closeWithGrace({ delay: GRACE_MS, skip: [...STOP_SIGNALS] }, async ({ err }) => {
    if (err !== undefined) running.log.error({ err }, 'shutting down after an error')
    else running.log.info({ signal: stopSignal }, 'shutting down: finishing in-flight requests')
    // The app closes each keep-alive connection as it goes idle (server.ts): world-postgres's
    // queue delivers over such connections, and one left open would hold the close past GRACE_MS.
    try {
      await running.close()
    } finally {
      // The last spans (the shutdown's own deliveries) are exported before the process exits.
      await tracing?.shutdown().catch((error: unknown) => running.log.warn({ err: error }, 'exporting the last spans failed'))
    }
  })
  // Signals are handled here rather than by close-with-grace, which exits 1 on a second signal:
  // graphile-worker (world-postgres's queue) handles SIGTERM/SIGINT too, drains its jobs, then
  // re-raises the signal at the process. A repeated signal must not cut our shutdown short;
  // GRACE_MS bounds it anyway.
  for (const signal of STOP_SIGNALS) {
    process.on(signal, () => {
      if (stopSignal !== undefined) return running.log.info({ signal }, 'shutdown already in progress')
      stopSignal = signal
      void shutdown.close()
    })
  }

  await app.listen({ port, host: settings.host })
  app.log.info({ startupMs: Date.now() - started, world: settings.targetWorld, compute: settings.compute, tracing: settings.tracing?.exporters ?? 'off' }, 'compute worker ready')
}
