import type { World } from '@workflow/world'
import fp from 'fastify-plugin'
import type { ComputeExecutor } from '../lib/compute/types.js'
import { measureWorld } from '../lib/observability/measured-world.js'
import { createWorldProbe, type WorldProbe } from '../lib/world/probe.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The one World every route and the executor use. */
    workflowWorld: World
    workflowWorldProbe: WorldProbe
    /** The executor of deployed code, when this worker runs one. */
    compute: ComputeExecutor | undefined
  }
}

export interface WorldPluginOptions {
  world: World
  compute?: ComputeExecutor
  /** Handed to the executor: where deployments' files are. */
  artifactDir: string
}

export default fp<WorldPluginOptions>(async function worldPlugin (fastify, opts) {
  const { compute, artifactDir } = opts
  const metrics = fastify.metrics
  const world = metrics === undefined ? opts.world : measureWorld(opts.world, metrics)
  fastify.decorate('workflowWorld', world)
  fastify.decorate('workflowWorldProbe', createWorldProbe(world))
  fastify.decorate('compute', compute)

  fastify.addHook('onReady', async () => {
    // The executor attaches to the queue first: world.start() re-queues active runs at once.
    const deployments = fastify.controlPlane.deployments
    await compute?.start({ world, log: fastify.log, artifactDir, metrics, prepareDeployment: async (id) => await deployments.localDirectory(id) })
    await world.start?.()
  })

  fastify.addHook('onClose', async () => {
    await compute?.close()
    await world.close?.()
  })
}, { name: 'compute-worker-world', fastify: '5.x', dependencies: ['compute-worker-storage'] })
