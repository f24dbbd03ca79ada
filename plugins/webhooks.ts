import fp from 'fastify-plugin'
import { countedTrigger } from '../lib/observability/metrics.js'
import { WebhookReceiver } from '../lib/webhooks/receiver.js'

declare module 'fastify' {
  interface FastifyInstance {
    webhookReceiver: WebhookReceiver
  }
}

export default fp(async function webhooksPlugin (fastify) {
  const trigger = fastify.runTrigger
  fastify.decorate('webhookReceiver', new WebhookReceiver({
    providers: fastify.workerConfig.webhookProviders,
    idempotently: fastify.idempotently,
    onWebhook: fastify.workerConfig.onWebhook,
    startRun: async (claim, request, context) => await countedTrigger(fastify.metrics, 'webhook', async () => await trigger.start(claim, request, context))
  }))
}, { name: 'compute-worker-webhooks', fastify: '5.x', dependencies: ['compute-worker-idempotency', 'compute-worker-runs'] })
