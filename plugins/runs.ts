import fp from 'fastify-plugin'
import { RunTrigger } from '../lib/runs/trigger.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Creates runs as start() does, idempotently: POST /v1/runs and provider webhooks use it. */
    runTrigger: RunTrigger
  }
}

/** How long a duplicate trigger waits for the original's answer when called through `trigger()`. */
const TRIGGER_WAIT_MS = 5_000

export default fp(async function runsPlugin (fastify) {
  fastify.decorate('runTrigger', new RunTrigger({
    world: fastify.workflowWorld,
    deployments: fastify.deployments,
    idempotency: fastify.idempotencyStore,
    waitMs: TRIGGER_WAIT_MS
  }))
}, {
  name: 'compute-worker-runs',
  fastify: '5.x',
  dependencies: ['compute-worker-world', 'compute-worker-deployments', 'compute-worker-idempotency']
})
