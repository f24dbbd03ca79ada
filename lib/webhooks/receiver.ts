import { randomUUID } from 'node:crypto'
import { DomainError } from '../errors.js'
import type { WebhookDeliveryStore } from './deliveries.js'
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

/** Starts a run through the same path as POST /v1/runs, the delivery id as its idempotency key. */
export type WebhookRunStarter = (request: {
  provider: string
  workflowName: string
  input: unknown[]
  idempotencyKey: string
  /** What a redelivery repeats exactly (its headers, signatures and timestamps may differ). */
  fingerprinted: unknown
  correlationId: string
}) => Promise<{ runId: string }>

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
 * Provider webhooks (contract section 7): verify the signature over the raw bytes, process each
 * delivery once, start the configured workflow and/or call `onWebhook`.
 */
export class WebhookReceiver {
  readonly #providers: ReadonlyMap<string, WebhookProvider>
  readonly #deliveries: WebhookDeliveryStore
  readonly #onWebhook: OnWebhook | undefined
  readonly #startRun: WebhookRunStarter

  constructor (deps: {
    providers: ReadonlyMap<string, WebhookProvider>
    deliveries: WebhookDeliveryStore
    onWebhook: OnWebhook | undefined
    startRun: WebhookRunStarter
  }) {
    this.#providers = deps.providers
    this.#deliveries = deps.deliveries
    this.#onWebhook = deps.onWebhook
    this.#startRun = deps.startRun
  }

  async receive (delivery: WebhookDelivery): Promise<WebhookAnswer> {
    const provider = this.#providers.get(delivery.provider)
    if (provider === undefined && this.#onWebhook === undefined) {
      throw new DomainError('not_found', `No webhook provider named ${delivery.provider} is configured`)
    }
    let deliveryId: string | undefined
    if (provider !== undefined) {
      if (delivery.rawBody.length > provider.maxBodyBytes) {
        throw new DomainError('payload_too_large', `Webhook bodies for ${provider.name} are limited to ${provider.maxBodyBytes} bytes`)
      }
      const verified = verifyWebhookSignature(provider, delivery.headers, delivery.rawBody)
      if (!verified.ok) {
        throw new DomainError('invalid_signature', `The webhook signature did not verify (${verified.reason})`, { details: { reason: verified.reason } })
      }
      deliveryId = verified.deliveryId
    }
    const parsed = parseJson(delivery.rawBody)
    if (provider !== undefined && !parsed.ok) {
      throw new DomainError('validation_error', 'The webhook body is not JSON')
    }
    const body = parsed.ok ? parsed.value : undefined
    if (provider?.scheme === 'stripe') {
      const id = (body as { id?: unknown } | null)?.id
      deliveryId = typeof id === 'string' ? id : undefined
    }
    if (provider === undefined) deliveryId = guessDeliveryId(delivery.headers)
    if (provider !== undefined && (deliveryId === undefined || !DELIVERY_ID.test(deliveryId))) {
      throw new DomainError('validation_error', 'The webhook delivery carries no usable delivery id')
    }
    // Unconfigured providers (onWebhook only) without an id cannot be de-duplicated, so they are
    // not recorded either (a row nothing can match would only fill the table).
    if (deliveryId !== undefined && DELIVERY_ID.test(deliveryId)) return await this.#process(delivery, provider, deliveryId, body, this.#deliveries)
    return await this.#process(delivery, provider, `unidentified-${randomUUID()}`, body, undefined)
  }

  async #process (delivery: WebhookDelivery, provider: WebhookProvider | undefined, deliveryId: string, body: unknown, ledger: WebhookDeliveryStore | undefined): Promise<WebhookAnswer> {
    const reservation = ledger?.reserve(delivery.provider, deliveryId, delivery.correlationId) ?? { state: 'reserved' }
    if (reservation.state === 'completed') {
      return { body: reservation.answer.body, status: 200, deliveryId, runId: reservation.answer.runId ?? undefined, outcome: 'duplicate', custom: true }
    }
    if (reservation.state === 'in_progress') {
      throw new DomainError('idempotency_in_progress', `Delivery ${deliveryId} is being processed; retry later`, { retryAfter: 1 })
    }
    try {
      const headers = workflowHeaders(delivery.headers)
      let runId: string | undefined
      if (provider?.trigger !== undefined) {
        const run = await this.#startRun({
          provider: delivery.provider,
          workflowName: provider.trigger.workflowName,
          input: [body, { provider: delivery.provider, deliveryId, headers }],
          idempotencyKey: deliveryId,
          fingerprinted: { workflowName: provider.trigger.workflowName, deliveryId, body },
          correlationId: delivery.correlationId
        })
        runId = run.runId
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
      if (status >= 200 && status < 300) {
        ledger?.complete(delivery.provider, deliveryId, { status, body: answerBody, runId: runId ?? null })
      } else {
        // Only successes are remembered: the provider's retry of a refused delivery is processed again.
        ledger?.release(delivery.provider, deliveryId)
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
    } catch (error) {
      ledger?.release(delivery.provider, deliveryId)
      throw error
    }
  }
}
