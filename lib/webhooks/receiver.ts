import { randomUUID } from 'node:crypto'
import { ApiError } from '../errors.js'
import type { Claim, Idempotently, WorkResult } from '../idempotency/perform.js'
import { newRunId, type TriggerContext, type TriggerPlan } from '../runs/trigger.js'
import type { RunSummary, TriggerRequest } from '../schemas/runs.js'
import type { WebhookProvider } from './providers.js'
import { verifyWebhookSignature, type Headers } from './signatures.js'

/** What the library's `onWebhook` option receives. */
export interface WebhookEvent {
  provider: string
  deliveryId: string
  headers: Record<string, string>
  /** The body parsed as JSON (undefined when it is not JSON). */
  body: unknown
  rawBody: Buffer
  correlationId: string
  /** True when a configured provider's signature verified; false for unconfigured providers. */
  verified: boolean
  /** The run the provider's `trigger` started, when it has one. */
  runId?: string
}

export type OnWebhook = (event: WebhookEvent) => unknown

/** The trigger of POST /v1/runs, run under the delivery's idempotency claim. */
export type WebhookRunStarter = (claim: Claim<TriggerPlan>, request: TriggerRequest, context: TriggerContext) => Promise<WorkResult<RunSummary>>

/** Deliveries are remembered this long: Stripe, for one, retries a delivery for up to three days. */
export const DELIVERY_RETENTION_MS = 72 * 60 * 60 * 1000

/**
 * A delivery's idempotency record is owned by its provider (`webhook:<provider>`) and keyed by
 * its delivery id, under this scope. A delivery is known by its id alone, so every record has the
 * same fingerprint: a redelivery is signed afresh (other timestamps, other headers), and whatever
 * it carries, an id seen before gets the first answer. The migration that dropped the old
 * `webhook_deliveries` table wrote these values into the records it carried over: never change them.
 */
const DELIVERY_SCOPE = 'POST /v1/webhooks/:provider'
const DELIVERY_FINGERPRINT = 'delivery-id'

/** What the ledger keeps of a delivery to answer its repeats: the reply's body and the run it started. */
interface RecordedDelivery {
  body: unknown
  runId?: string
}

export interface WebhookDelivery {
  provider: string
  headers: Headers
  rawBody: Buffer
  correlationId: string
}

export interface WebhookAnswer {
  status: number
  body: unknown
  deliveryId: string | undefined
  runId: string | undefined
  outcome: 'accepted' | 'duplicate' | 'refused'
  reason?: string
  /** True when the body is onWebhook's own answer rather than the worker's. */
  custom: boolean
}

// Headers worth handing to a workflow: never credentials, signatures or hop-by-hop noise.
const WITHHELD_HEADERS = new Set([
  'authorization', 'cookie', 'proxy-authorization', 'connection', 'content-length', 'host', 'x-workflow-correlation-id',
  'x-hub-signature', 'x-hub-signature-256', 'stripe-signature', 'webhook-signature', 'webhook-timestamp'
])

function workflowHeaders (headers: Headers): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || WITHHELD_HEADERS.has(name) || name.startsWith('x-forwarded-')) continue
    out[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return out
}

function parseJson (rawBody: Buffer): { ok: true, value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(rawBody.toString('utf8')) }
  } catch {
    return { ok: false }
  }
}

function headerValue (headers: Headers, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

function guessDeliveryId (headers: Headers): string | undefined {
  return headerValue(headers, 'x-github-delivery') ?? headerValue(headers, 'webhook-id') ?? headerValue(headers, 'x-request-id')
}

const DELIVERY_ID = /^[\x21-\x7e]{1,255}$/

/**
 * Provider webhooks: verify the signature over the raw bytes, process each delivery once (the
 * worker's idempotency ledger, keyed by provider and delivery id), start the configured
 * workflow and/or call `onWebhook`.
 */
export class WebhookReceiver {
  readonly #providers: ReadonlyMap<string, WebhookProvider>
  readonly #idempotently: Idempotently
  readonly #onWebhook: OnWebhook | undefined
  readonly #startRun: WebhookRunStarter

  constructor (deps: {
    providers: ReadonlyMap<string, WebhookProvider>
    idempotently: Idempotently
    onWebhook: OnWebhook | undefined
    startRun: WebhookRunStarter
  }) {
    this.#providers = deps.providers
    this.#idempotently = deps.idempotently
    this.#onWebhook = deps.onWebhook
    this.#startRun = deps.startRun
  }

  async receive (delivery: WebhookDelivery): Promise<WebhookAnswer> {
    const provider = this.#providers.get(delivery.provider)
    if (provider === undefined && this.#onWebhook === undefined) {
      throw new ApiError(404, 'not_found', `No webhook provider named ${delivery.provider} is configured`)
    }
    let deliveryId: string | undefined
    if (provider !== undefined) {
      if (delivery.rawBody.length > provider.maxBodyBytes) {
        throw new ApiError(413, 'payload_too_large', `Webhook bodies for ${provider.name} are limited to ${provider.maxBodyBytes} bytes`)
      }
      const verified = verifyWebhookSignature(provider, delivery.headers, delivery.rawBody)
      if (!verified.ok) {
        throw new ApiError(401, 'invalid_signature', `The webhook signature did not verify (${verified.reason})`, { details: { reason: verified.reason } })
      }
      deliveryId = verified.deliveryId
    }
    const parsed = parseJson(delivery.rawBody)
    if (provider !== undefined && !parsed.ok) {
      throw new ApiError(400, 'validation_error', 'The webhook body is not JSON')
    }
    const body = parsed.ok ? parsed.value : undefined
    if (provider?.scheme === 'stripe') {
      const id = (body as { id?: unknown } | null)?.id
      deliveryId = typeof id === 'string' ? id : undefined
    }
    if (provider === undefined) deliveryId = guessDeliveryId(delivery.headers)
    if (provider !== undefined && (deliveryId === undefined || !DELIVERY_ID.test(deliveryId))) {
      throw new ApiError(400, 'validation_error', 'The webhook delivery carries no usable delivery id')
    }
    // Unconfigured providers (onWebhook only) without an id cannot be de-duplicated, so they are
    // not recorded either (a record nothing can match would only fill the table).
    if (deliveryId !== undefined && DELIVERY_ID.test(deliveryId)) return await this.#processOnce(delivery, provider, deliveryId, body)
    return await this.#process(delivery, provider, `unidentified-${randomUUID()}`, body, undefined)
  }

  /**
   * The delivery's work under its claim: the claim's reference is the run id a trigger uses, and
   * only 2xx replies are recorded, so a refused delivery is processed again when retried.
   */
  async #processOnce (delivery: WebhookDelivery, provider: WebhookProvider | undefined, deliveryId: string, body: unknown): Promise<WebhookAnswer> {
    let answer: WebhookAnswer | undefined
    const outcome = await this.#idempotently<RecordedDelivery, TriggerPlan>({
      id: { owner: `webhook:${delivery.provider}`, scope: DELIVERY_SCOPE, key: deliveryId },
      fingerprint: DELIVERY_FINGERPRINT,
      newReference: newRunId,
      retentionMs: DELIVERY_RETENTION_MS
    }, async (claim) => {
      answer = await this.#process(delivery, provider, deliveryId, body, claim)
      return { status: answer.status, body: { body: answer.body, runId: answer.runId } }
    })
    if (outcome.replayed || answer === undefined) {
      return { status: 200, body: outcome.body.body, deliveryId, runId: outcome.body.runId, outcome: 'duplicate', custom: true }
    }
    return answer
  }

  async #process (
    delivery: WebhookDelivery,
    provider: WebhookProvider | undefined,
    deliveryId: string,
    body: unknown,
    claim: Claim<TriggerPlan> | undefined
  ): Promise<WebhookAnswer> {
    const headers = workflowHeaders(delivery.headers)
    let runId: string | undefined
    // A configured provider's delivery always has an id, hence a claim.
    if (provider?.trigger !== undefined && claim !== undefined) {
      const run = await this.#startRun(claim, {
        workflowName: provider.trigger.workflowName,
        input: [body, { provider: delivery.provider, deliveryId, headers }]
      }, { correlationId: delivery.correlationId })
      runId = run.body.runId
    }
    let status = 202
    let customized = false
    let answerBody: unknown = { received: true, deliveryId, ...(runId !== undefined ? { runId } : {}) }
    if (this.#onWebhook !== undefined) {
      const custom = await this.#onWebhook({
        provider: delivery.provider,
        deliveryId,
        headers,
        body,
        rawBody: delivery.rawBody,
        correlationId: delivery.correlationId,
        verified: provider !== undefined,
        ...(runId !== undefined ? { runId } : {})
      }) as { status?: unknown, body?: unknown } | undefined | null
      if (custom !== undefined && custom !== null) {
        if (typeof custom.status !== 'number' || !Number.isInteger(custom.status) || custom.status < 200 || custom.status > 599) {
          throw new Error(`onWebhook returned an invalid status ${JSON.stringify(custom.status)}`)
        }
        status = custom.status
        answerBody = custom.body ?? null
        customized = true
      }
    }
    return {
      status,
      body: answerBody,
      deliveryId,
      runId,
      outcome: status < 300 ? 'accepted' : 'refused',
      reason: status < 300 ? undefined : 'on_webhook_refused',
      custom: customized
    }
  }
}
