import fp from 'fastify-plugin'
import { DeploymentStore } from '../lib/deployments/store.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Deployments with their files, and the active pointer. */
    deployments: DeploymentStore
  }
}

export default fp(async function deploymentsPlugin (fastify) {
  const deployments = new DeploymentStore(fastify.controlPlane.deployments)
  fastify.decorate('deployments', deployments)
  fastify.addHook('onReady', async () => {
    const removed = await deployments.sweepOrphans()
    if (removed.length > 0) fastify.log.info({ removed }, 'deployments: removed files of uploads a crash interrupted')
  })
}, { name: 'compute-worker-deployments', fastify: '5.x', dependencies: ['compute-worker-config', 'compute-worker-storage'] })
