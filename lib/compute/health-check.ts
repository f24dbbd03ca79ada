import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { HealthCheckPayloadSchema, SPEC_VERSION_CURRENT, type World } from '@workflow/world'
import type { DeliveryKind } from './protocol.js'

/** The @workflow/core the worker carries: what a health-check answer reports. */
export const WORKFLOW_CORE_VERSION: string = (JSON.parse(readFileSync(
  new URL('../package.json', import.meta.resolve('@workflow/core')), 'utf8'
)) as { version: string }).version

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
  const runId = fakeRunId()
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

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

// Health-check streams need a run id that passes validation and belongs to no run: `wrun_<ulid>`.
function fakeRunId (): string {
  let time = Date.now()
  let id = ''
  for (let i = 0; i < 10; i++) {
    id = CROCKFORD[time % 32] + id
    time = Math.floor(time / 32)
  }
  for (const byte of randomBytes(16)) id += CROCKFORD[byte % 32]
  return `wrun_${id}`
}
