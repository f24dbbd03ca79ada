import fp from 'fastify-plugin'
import { RunTrigger } from '../lib/runs/trigger.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Creates runs as start() does, under an idempotency claim: POST /v1/runs and provider webhooks use it. */
    runTrigger: RunTrigger
  }
}

export default fp(async function runsPlugin (fastify) {
  fastify.decorate('runTrigger', new RunTrigger({
    world: fastify.workflowWorld,
    deployments: fastify.deployments
  }))
}, {
  name: 'compute-worker-runs',
  fastify: '5.x',
  dependencies: ['compute-worker-world', 'compute-worker-deployments']
})
