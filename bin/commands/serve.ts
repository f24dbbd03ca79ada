import closeWithGrace from 'close-with-grace'
import { buildComputeWorkerApp } from '../../server.js'
import { loggerOptions } from '../../lib/logging.js'
import { createWorldForTarget } from '../../lib/world/create-world.js'
import { createInProcessCompute } from '../../lib/compute/index.js'
import type { ComputeExecutor } from '../../lib/compute/types.js'
import { readStandaloneSettings, type StandaloneSettings } from '../env.js'

const GRACE_MS = 10_000

/** The executor the standalone server runs with, from COMPUTE_WORKER_COMPUTE. */
function createCompute (settings: StandaloneSettings): ComputeExecutor | undefined {
  if (settings.compute === 'none') return undefined
  return createInProcessCompute({
    artifactDir: settings.options.artifactDir,
    deliverySecret: settings.inProcess.deliverySecret,
    maxLoadedDeployments: settings.inProcess.maxLoadedDeployments,
    threadMemoryMb: settings.inProcess.threadMemoryMb
  })
}

/** `compute-worker` / `compute-worker serve`: the standalone server, configured from env. */
export async function serve (): Promise<void> {
  const settings = readStandaloneSettings()
  const world = createWorldForTarget({
    target: settings.targetWorld,
    localDataDir: settings.localDataDir,
    localBaseUrl: settings.localBaseUrl
  })
  const compute = createCompute(settings)
  const started = Date.now()
  const app = buildComputeWorkerApp({
    ...settings.options,
    world,
    compute,
    logger: loggerOptions(settings.logLevel)
  })

  closeWithGrace({ delay: GRACE_MS }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'shutting down after an error')
    else app.log.info({ signal }, 'shutting down: finishing in-flight requests')
    await app.close()
  })

  await app.listen({ port: settings.port, host: settings.host })
  app.log.info({ startupMs: Date.now() - started, world: settings.targetWorld, compute: settings.compute }, 'compute worker ready')
}
