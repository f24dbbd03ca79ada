import { createHmac, timingSafeEqual } from 'node:crypto'
import type { WebhookProvider } from './providers.js'

export type Headers = Record<string, string | string[] | undefined>

export type VerifyResult =
  | { ok: true, deliveryId: string | undefined }
  | { ok: false, reason: 'missing_signature' | 'malformed_signature' | 'stale_timestamp' | 'signature_mismatch' }

function header (headers: Headers, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

function hmac (key: string | Buffer, ...parts: Array<string | Buffer>): Buffer {
  const mac = createHmac('sha256', key)
  for (const part of parts) mac.update(part)
  return mac.digest()
}

function equalBytes (expected: Buffer, given: Buffer): boolean {
  return expected.length === given.length && timingSafeEqual(expected, given)
}

function withinTolerance (timestampSeconds: number, toleranceSeconds: number, nowMs: number): boolean {
  return Number.isSafeInteger(timestampSeconds) && Math.abs(nowMs / 1000 - timestampSeconds) <= toleranceSeconds
}

/** GitHub: `X-Hub-Signature-256: sha256=<hex HMAC of the body>`, delivery id `X-GitHub-Delivery`. */
function verifyGithub (provider: WebhookProvider, headers: Headers, body: Buffer): VerifyResult {
  const signature = header(headers, 'x-hub-signature-256')
  if (signature === undefined) return { ok: false, reason: 'missing_signature' }
  const match = /^sha256=([0-9a-f]{64})$/i.exec(signature.trim())
  if (match === null) return { ok: false, reason: 'malformed_signature' }
  const given = Buffer.from(match[1], 'hex')
  const ok = provider.secrets.some((secret) => equalBytes(hmac(secret, body), given))
  return ok ? { ok: true, deliveryId: header(headers, 'x-github-delivery') } : { ok: false, reason: 'signature_mismatch' }
}

/**
 * Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]` over `<t>.<body>`, keyed by the whole
 * `whsec_…` secret. The delivery id is the event id, inside the (then verified) body.
 */
function verifyStripe (provider: WebhookProvider, headers: Headers, body: Buffer, nowMs: number): VerifyResult {
  const signature = header(headers, 'stripe-signature')
  if (signature === undefined) return { ok: false, reason: 'missing_signature' }
  let timestamp: string | undefined
  const candidates: Buffer[] = []
  for (const part of signature.split(',')) {
    const [key, value] = part.trim().split('=', 2)
    if (key === 't') timestamp = value
    else if (key === 'v1' && value !== undefined && /^[0-9a-f]{64}$/i.test(value)) candidates.push(Buffer.from(value, 'hex'))
  }
  if (timestamp === undefined || !/^\d+$/.test(timestamp) || candidates.length === 0) return { ok: false, reason: 'malformed_signature' }
  if (!withinTolerance(Number(timestamp), provider.toleranceSeconds, nowMs)) return { ok: false, reason: 'stale_timestamp' }
  const ok = provider.secrets.some((secret) => {
    const expected = hmac(secret, timestamp as string, '.', body)
    return candidates.some((candidate) => equalBytes(expected, candidate))
  })
  return ok ? { ok: true, deliveryId: undefined } : { ok: false, reason: 'signature_mismatch' }
}

/**
 * Standard Webhooks: `webhook-signature: v1,<base64> [v1,<base64> …]` over `<id>.<timestamp>.<body>`,
 * keyed by the base64 after `whsec_`; the timestamp must be within tolerance in both directions.
 */
function verifyStandard (provider: WebhookProvider, headers: Headers, body: Buffer, nowMs: number): VerifyResult {
  const id = header(headers, 'webhook-id')
  const timestamp = header(headers, 'webhook-timestamp')
  const signature = header(headers, 'webhook-signature')
  if (id === undefined || timestamp === undefined || signature === undefined) return { ok: false, reason: 'missing_signature' }
  if (!/^\d+$/.test(timestamp)) return { ok: false, reason: 'malformed_signature' }
  const candidates = signature.split(' ')
    .map((entry) => entry.split(','))
    .filter(([version, value]) => version === 'v1' && value !== undefined && /^[A-Za-z0-9+/]+={0,2}$/.test(value))
    .map(([, value]) => Buffer.from(value, 'base64'))
  if (candidates.length === 0) return { ok: false, reason: 'malformed_signature' }
  if (!withinTolerance(Number(timestamp), provider.toleranceSeconds, nowMs)) return { ok: false, reason: 'stale_timestamp' }
  const ok = provider.secrets.some((secret) => {
    const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64')
    const expected = hmac(key, id, '.', timestamp, '.', body)
    return candidates.some((candidate) => equalBytes(expected, candidate))
  })
  return ok ? { ok: true, deliveryId: id } : { ok: false, reason: 'signature_mismatch' }
}

/** Checks a delivery's signature over its raw bytes against every secret of the provider. */
export function verifyWebhookSignature (provider: WebhookProvider, headers: Headers, body: Buffer, nowMs = Date.now()): VerifyResult {
  switch (provider.scheme) {
    case 'github': return verifyGithub(provider, headers, body)
    case 'stripe': return verifyStripe(provider, headers, body, nowMs)
    case 'standard': return verifyStandard(provider, headers, body, nowMs)
  }
}
