import fp from 'fastify-plugin'
import { countedTrigger } from '../lib/observability/metrics.js'
import { WebhookDeliveryStore } from '../lib/webhooks/deliveries.js'
import { WebhookReceiver } from '../lib/webhooks/receiver.js'

declare module 'fastify' {
  interface FastifyInstance {
    webhookReceiver: WebhookReceiver
  }
}

/** The idempotency scope of POST /v1/runs: a webhook trigger takes the same path, owned by its provider. */
const TRIGGER_SCOPE = 'POST /v1/runs'

const PURGE_INTERVAL_MS = 60 * 60 * 1000

export default fp(async function webhooksPlugin (fastify) {
  const deliveries = new WebhookDeliveryStore(fastify.controlDb)
  fastify.decorate('webhookReceiver', new WebhookReceiver({
    providers: fastify.workerConfig.webhookProviders,
    deliveries,
    onWebhook: fastify.workerConfig.onWebhook,
    startRun: async ({ provider, workflowName, input, idempotencyKey, fingerprinted, correlationId }) => {
      const outcome = await countedTrigger(fastify.metrics, 'webhook', async () => await fastify.runTrigger.trigger({
        owner: `webhook:${provider}`,
        scope: TRIGGER_SCOPE,
        key: idempotencyKey,
        request: { workflowName, input },
        fingerprinted,
        context: { correlationId }
      }))
      return { runId: outcome.body.runId }
    }
  }))

  const purge = () => {
    try {
      deliveries.purgeExpired()
    } catch (error) {
      fastify.log.warn({ err: error }, 'purging expired webhook deliveries failed')
    }
  }
  fastify.addHook('onReady', async () => { purge() })
  const timer = setInterval(purge, PURGE_INTERVAL_MS).unref()
  fastify.addHook('onClose', async () => { clearInterval(timer) })
}, { name: 'compute-worker-webhooks', fastify: '5.x', dependencies: ['compute-worker-storage', 'compute-worker-runs'] })
