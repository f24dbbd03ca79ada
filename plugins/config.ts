import fp from 'fastify-plugin'
import type { ResolvedOptions } from '../lib/options.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The worker's options with defaults applied (validated once, at registration). */
    workerConfig: Readonly<ResolvedOptions>
  }
}

export default fp<{ config: ResolvedOptions }>(async function configPlugin (fastify, opts) {
  fastify.decorate('workerConfig', Object.freeze({ ...opts.config }))
}, { name: 'compute-worker-config', fastify: '5.x' })
