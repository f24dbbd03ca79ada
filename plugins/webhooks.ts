import fp from 'fastify-plugin'
import { WebhookDeliveryStore } from '../lib/webhooks/deliveries.js'
import { parseWebhookProviders, type WebhookProvider } from '../lib/webhooks/providers.js'

declare module 'fastify' {
  interface FastifyInstance {
    webhookProviders: ReadonlyMap<string, WebhookProvider>
    webhookDeliveries: WebhookDeliveryStore
  }
}

const PURGE_INTERVAL_MS = 60 * 60 * 1000

export default fp<{ webhooks: Record<string, unknown> }>(async function webhooksPlugin (fastify, opts) {
  fastify.decorate('webhookProviders', parseWebhookProviders(opts.webhooks))
  const deliveries = new WebhookDeliveryStore(fastify.controlDb)
  fastify.decorate('webhookDeliveries', deliveries)

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
}, { name: 'compute-worker-webhooks', fastify: '5.x', dependencies: ['compute-worker-storage'] })
