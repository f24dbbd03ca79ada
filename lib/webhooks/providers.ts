import { OptionsError } from '../errors.js'

export const WEBHOOK_SCHEMES = ['github', 'stripe', 'standard'] as const
export type WebhookScheme = typeof WEBHOOK_SCHEMES[number]

export interface WebhookTrigger {
  /** A workflow id or unique export name of the active deployment's manifest. */
  workflowName: string
}

export interface WebhookProvider {
  name: string
  scheme: WebhookScheme
  /** Every secret that may have signed a delivery (rotation: the new one and the old one). */
  secrets: string[]
  trigger: WebhookTrigger | undefined
  /** How far a signed timestamp may be from now (stripe, standard). */
  toleranceSeconds: number
  /** Largest body accepted for this provider. */
  maxBodyBytes: number
}

export const DEFAULT_TOLERANCE_SECONDS = 300
export const DEFAULT_WEBHOOK_BODY_BYTES = 5 * 1024 * 1024
const PROVIDER_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/

function secretsOf (at: string, entry: Record<string, unknown>, scheme: WebhookScheme): string[] {
  const { secret, secrets } = entry
  const list = secrets !== undefined ? secrets : secret !== undefined ? [secret] : undefined
  if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === 'string' && s.length > 0)) {
    throw new OptionsError(`${at}.secret`, 'must be a non-empty string (or `secrets`, a non-empty array of them, for rotation)')
  }
  if (scheme === 'standard') {
    for (const s of list as string[]) {
      const base64 = s.startsWith('whsec_') ? s.slice('whsec_'.length) : s
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || Buffer.from(base64, 'base64').length < 16) {
        throw new OptionsError(`${at}.secret`, 'of a standard provider must be `whsec_` followed by base64 of at least 16 bytes')
      }
    }
  }
  return list as string[]
}

function positive (at: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new OptionsError(at, `must be a positive integer, got ${JSON.stringify(value)}`)
  }
  return value
}

/** Validates the `webhooks` option (or COMPUTE_WORKER_WEBHOOKS) once, at start-up. */
export function parseWebhookProviders (config: Record<string, unknown>): Map<string, WebhookProvider> {
  const providers = new Map<string, WebhookProvider>()
  for (const [name, raw] of Object.entries(config)) {
    const at = `webhooks.${name}`
    if (!PROVIDER_NAME.test(name)) throw new OptionsError(at, 'is not a valid provider name (lowercase letters, digits, - and _)')
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new OptionsError(at, 'must be an object')
    const entry = raw as Record<string, unknown>
    const scheme = entry.scheme
    if (!WEBHOOK_SCHEMES.includes(scheme as WebhookScheme)) {
      throw new OptionsError(`${at}.scheme`, `must be one of ${WEBHOOK_SCHEMES.join(', ')}, got ${JSON.stringify(scheme)}`)
    }
    let trigger: WebhookTrigger | undefined
    if (entry.trigger !== undefined) {
      const t = entry.trigger as Record<string, unknown> | null
      if (t === null || typeof t !== 'object' || typeof t.workflowName !== 'string' || t.workflowName === '') {
        throw new OptionsError(`${at}.trigger`, 'must be { workflowName: string }')
      }
      trigger = { workflowName: t.workflowName }
    }
    providers.set(name, {
      name,
      scheme: scheme as WebhookScheme,
      secrets: secretsOf(at, entry, scheme as WebhookScheme),
      trigger,
      toleranceSeconds: positive(`${at}.toleranceSeconds`, entry.toleranceSeconds, DEFAULT_TOLERANCE_SECONDS),
      maxBodyBytes: positive(`${at}.maxBodyBytes`, entry.maxBodyBytes, DEFAULT_WEBHOOK_BODY_BYTES)
    })
  }
  return providers
}
