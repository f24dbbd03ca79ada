import { Type } from 'typebox'

export const DeliveryEndpointParams = Type.Object({
  endpoint: Type.Union([Type.Literal('flow'), Type.Literal('step')], { description: 'flow: workflow queue messages; step: step queue messages' })
})

/** What the SDK's queue handler answers, in world-local's delivery format (docs/world-lane.md, "The queue handler"). */
export const DeliveryResponse = Type.Union([
  Type.Object({ ok: Type.Literal(true) }),
  Type.Object({ timeoutSeconds: Type.Number({ description: 'Deliver the message again after this many seconds' }) })
], { title: 'DeliveryAnswer', examples: [{ timeoutSeconds: 3600 }] })

export const DeliveryFailure = Type.Object({ error: Type.Unknown() }, { additionalProperties: true })

const HEALTH_EXAMPLE = { healthy: true, endpoint: '/.well-known/workflow/v1/flow', specVersion: 3, workflowCoreVersion: '4.8.9' }

export const EndpointHealthResponse = Type.Object({
  healthy: Type.Boolean(),
  endpoint: Type.String(),
  specVersion: Type.Number(),
  workflowCoreVersion: Type.String()
}, { examples: [HEALTH_EXAMPLE] })

/** A delivery's answer, or with `?__health` the SDK's health answer. */
export const DeliveryOrHealthResponse = Type.Union([DeliveryResponse, EndpointHealthResponse], {
  examples: [{ timeoutSeconds: 3600 }, HEALTH_EXAMPLE]
})

/** Documentation only: the handler sends the webhook handler's own bytes, never serialized. */
export const WebhookHandlerAnswer = Type.Unknown({
  description: "The answer of the deployment's webhook handler (its status, headers and body): 202 without a body by default, " +
    "or the workflow's own Response (`respondWith`)",
  examples: [{ received: true }]
})

export const WebhookParams = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 2048, description: 'The hook token (a secret)' })
})
