import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autoload from '@fastify/autoload'
import type { FastifyPluginAsync } from 'fastify'
import { resolveOptions, type ComputeWorkerOptions, type ResolvedOptions } from './lib/options.js'
import { enforceStrictRemoteGuard } from './lib/strict-guard.js'
import { MAX_PARAM_LENGTH, maxParamLengthOf } from './server-options.js'
import auditPlugin from './plugins/audit.js'
import authPlugin from './plugins/auth.js'
import closingPlugin from './plugins/closing.js'
import configPlugin from './plugins/config.js'
import correlationPlugin from './plugins/correlation.js'
import deploymentsPlugin from './plugins/deployments.js'
import errorsPlugin from './plugins/errors.js'
import httpsPlugin from './plugins/https.js'
import idempotencyPlugin from './plugins/idempotency.js'
import metricsPlugin from './plugins/metrics.js'
import openapiPlugin from './plugins/openapi.js'
import rateLimitPlugin from './plugins/rate-limit.js'
import runsPlugin from './plugins/runs.js'
import storagePlugin from './plugins/storage.js'
import tracingPlugin from './plugins/tracing.js'
import uiPlugin from './plugins/ui.js'
import validationPlugin from './plugins/validation.js'
import webhooksPlugin from './plugins/webhooks.js'
import worldPlugin from './plugins/world.js'
import worldLanePlugin from './plugins/world-lane.js'

const here = dirname(fileURLToPath(import.meta.url))

// Running from sources means a TypeScript loader is active; tell autoload it may load .ts routes.
if (import.meta.url.endsWith('.ts')) process.env.FASTIFY_AUTOLOAD_TYPESCRIPT ??= '1'

/** Set by the standalone fronts, whose Fastify `genReqId` already yields the correlation id. */
export const kRequestIdIsCorrelationId = Symbol.for('compute-worker.requestIdIsCorrelationId')
/** Set by the fronts after they validated the options themselves (so start-up errors throw early). */
export const kResolvedOptions = Symbol.for('compute-worker.resolvedOptions')

export type ComputeWorkerPluginOptions = ComputeWorkerOptions & {
  [kRequestIdIsCorrelationId]?: boolean
  [kResolvedOptions]?: ResolvedOptions
}

/** Validates options and applies the strict remote guard; throws what start-up must fail on. */
export function prepareOptions (options: ComputeWorkerOptions, warn: (message: string) => void): ResolvedOptions {
  const config = resolveOptions(options)
  enforceStrictRemoteGuard({
    nodeEnv: process.env.NODE_ENV,
    expectedTargetWorld: config.expectedTargetWorld,
    targetWorld: config.targetWorld,
    warn
  })
  return config
}

/**
 * The whole worker as one Fastify plugin. Register it into any Fastify app (with a prefix if
 * wanted); the standalone fronts register it into an instance of their own.
 */
export const computeWorkerPlugin: FastifyPluginAsync<ComputeWorkerPluginOptions> = async function computeWorker (fastify, opts) {
  const config = opts[kResolvedOptions] ?? prepareOptions(opts, (message) => fastify.log.warn(message))
  if (maxParamLengthOf(fastify) < MAX_PARAM_LENGTH) {
    // A host's instance: its router refuses longer path parameters (hook tokens) in Fastify's own shape.
    fastify.log.warn(`compute-worker: this Fastify instance takes path parameters of up to ${maxParamLengthOf(fastify)} characters, hook tokens need ${MAX_PARAM_LENGTH}: create it with Fastify({ ...computeWorkerServerOptions })`)
  }

  // A JSON route given text/plain is 415 unsupported_media_type, like any other media type it does not
  // take. Fastify ships a text/plain parser; it goes for the worker's routes only (a host app's
  // keep it). Routes that take any body (webhooks, the flow/step endpoints) bring their own.
  if (fastify.hasContentTypeParser('text/plain')) fastify.removeContentTypeParser('text/plain')

  await fastify.register(configPlugin, { config })
  await fastify.register(validationPlugin)
  await fastify.register(errorsPlugin)
  await fastify.register(correlationPlugin, { requestIdIsCorrelationId: opts[kRequestIdIsCorrelationId] === true })
  await fastify.register(closingPlugin)
  // Before the plugins that count what they do (storage, World, webhooks) and every route.
  await fastify.register(metricsPlugin, { enabled: config.metrics })
  await fastify.register(tracingPlugin)
  await fastify.register(storagePlugin, { sqlitePath: config.sqlitePath, database: config.database, artifactDir: config.artifactDir, seedApiKeys: config.seedApiKeys, workerName: config.workerName })
  await fastify.register(worldPlugin, { world: config.world, compute: config.compute, artifactDir: config.artifactDir })
  // Hook order matters: correlation, HTTPS guard, key identification, the dashboard's session,
  // rate limit (all onRequest), then scope enforcement (preParsing).
  await fastify.register(httpsPlugin, { requireHttps: config.requireHttps })
  await fastify.register(authPlugin)
  if (config.ui !== false) await fastify.register(uiPlugin, { sessionLimits: config.ui.sessionLimits })
  await fastify.register(rateLimitPlugin, { rateLimitPerMinute: config.rateLimitPerMinute })
  await fastify.register(auditPlugin, { aggregateWindowMs: config.auditWindowMs })
  await fastify.register(worldLanePlugin, { pingIntervalMs: config.lanePingIntervalMs })
  await fastify.register(idempotencyPlugin, { retentionHours: config.idempotencyRetentionHours, waitMs: config.idempotencyWaitMs })
  await fastify.register(deploymentsPlugin)
  await fastify.register(runsPlugin)
  await fastify.register(webhooksPlugin)
  // Before the routes: it documents every route registered after it.
  await fastify.register(openapiPlugin)

  // Only what the route files need goes to autoload: passing `opts` would carry `prefix` along.
  await fastify.register(autoload, {
    dir: join(here, 'routes'),
    autoHooks: true,
    cascadeHooks: true,
    ...(config.ui === false ? { ignorePattern: /^ui$/ } : {}),
    options: {}
  })
}

export default computeWorkerPlugin
