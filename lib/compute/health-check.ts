import { HealthCheckPayloadSchema, SPEC_VERSION_CURRENT, type World } from '@workflow/world'
import { WORKFLOW_CORE_VERSION } from '../sdk/core-internals.js'
import { newUlid } from '../ulid.js'
import type { DeliveryKind } from './protocol.js'

const ENDPOINT_HEALTH_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, OPTIONS, GET, HEAD',
  'access-control-allow-headers': 'Content-Type'
}

/**
 * What the SDK's handlers answer to `?__health` on their endpoint, whatever the method
 * (@workflow/core 4.8.9 runtime/helpers.js withHealthCheck): OPTIONS 204, HEAD 200 without a
 * body, anything else 200 with the health body, all with CORS headers (its observability UI
 * probes from another origin). `wf health` on world-local and the SDK's port probe read it.
 */
export function endpointHealthResponse (method: string, pathname: string, specVersion: number | undefined): Response {
  if (method === 'OPTIONS') return new Response(null, { status: 204, headers: ENDPOINT_HEALTH_HEADERS })
  if (method === 'HEAD') return new Response(null, { status: 200, headers: ENDPOINT_HEALTH_HEADERS })
  const body = { healthy: true, endpoint: pathname, specVersion: specVersion ?? SPEC_VERSION_CURRENT, workflowCoreVersion: WORKFLOW_CORE_VERSION }
  return Response.json(body, { headers: ENDPOINT_HEALTH_HEADERS })
}

/** The correlation id of an SDK health-check message, or undefined for any other message. */
export function healthCheckCorrelationId (message: unknown): string | undefined {
  if ((message as { __healthCheck?: unknown } | null)?.__healthCheck !== true) return undefined
  const parsed = HealthCheckPayloadSchema.safeParse(message)
  return parsed.success ? parsed.data.correlationId : undefined
}

/**
 * Answers a health check the way the SDK's own handler does (@workflow/core 4.8.9
 * runtime/helpers.js handleHealthCheckMessage): a JSON line on `__health_check__<id>`, then close.
 * `start()` sends one before every cross-deployment trigger and waits up to 2 s for it. The
 * message carries no deployment (world-local drops the queue's deploymentId option), so the
 * main thread answers for every deployment without loading one.
 */
export async function answerHealthCheck (world: World, kind: DeliveryKind, correlationId: string): Promise<void> {
  const stream = `__health_check__${correlationId}`
  // A run id that passes validation and belongs to no run.
  const runId = `wrun_${newUlid()}`
  await world.writeToStream(stream, runId, JSON.stringify({
    healthy: true,
    endpoint: kind,
    correlationId,
    specVersion: world.specVersion ?? SPEC_VERSION_CURRENT,
    workflowCoreVersion: WORKFLOW_CORE_VERSION,
    timestamp: Date.now()
  }))
  await world.closeStream(stream, runId)
}
