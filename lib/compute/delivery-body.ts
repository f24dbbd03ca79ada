import { HealthCheckPayloadSchema, StepInvokePayloadSchema, WorkflowInvokePayloadSchema } from '@workflow/world'
import type { DeliveryEndpoint } from './types.js'

interface MessageSchema { safeParse (value: unknown): { success: boolean } }

const MESSAGES: Record<DeliveryEndpoint, MessageSchema[]> = {
  flow: [WorkflowInvokePayloadSchema, HealthCheckPayloadSchema],
  step: [StepInvokePayloadSchema, HealthCheckPayloadSchema]
}

/**
 * Why a JSON queue delivery's body is no message of its endpoint, checked with the World's own
 * message schemas; undefined when it is one. world-local's handler (which world-postgres
 * reuses) lets an unreadable body escape as an exception and answers a wrong shape with 500, and
 * the queue retries either until its delivery limit: this is a 400 at once instead. The body is
 * world-local's tagged JSON, whose byte tags the schemas take as they are (run input is unknown).
 */
export function deliveryBodyProblem (endpoint: DeliveryEndpoint, body: Uint8Array): string | undefined {
  let message: unknown
  try {
    message = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'))
  } catch {
    return 'The delivery body is not JSON'
  }
  if (MESSAGES[endpoint].some((schema) => schema.safeParse(message).success)) return undefined
  return `The delivery body is not a ${endpoint === 'flow' ? 'workflow' : 'step'} queue message`
}
