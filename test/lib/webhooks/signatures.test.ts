import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { test } from 'node:test'
import { Webhook } from 'standardwebhooks'
import Stripe from 'stripe'
import { parseWebhookProviders, type WebhookProvider } from '../../../lib/webhooks/providers.js'
import { verifyWebhookSignature } from '../../../lib/webhooks/signatures.js'

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0)
const nowSeconds = Math.floor(NOW / 1000)

function provider (config: Record<string, unknown>): WebhookProvider {
  return parseWebhookProviders({ p: config }).get('p') as WebhookProvider
}

test('github: the published example vector verifies', () => {
  // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
  const github = provider({ scheme: 'github', secret: "It's a Secret to Everybody" })
  const headers = {
    'x-hub-signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958'
  }
  assert.deepEqual(verifyWebhookSignature(github, headers, Buffer.from('Hello, World!')), { ok: true, deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958' })
  assert.deepEqual(verifyWebhookSignature(github, headers, Buffer.from('Hello, World?')), { ok: false, reason: 'signature_mismatch' })
  assert.deepEqual(verifyWebhookSignature(provider({ scheme: 'github', secret: 'wrong' }), headers, Buffer.from('Hello, World!')), { ok: false, reason: 'signature_mismatch' })
  assert.deepEqual(verifyWebhookSignature(github, { 'x-github-delivery': 'x' }, Buffer.from('Hello, World!')), { ok: false, reason: 'missing_signature' })
  assert.deepEqual(verifyWebhookSignature(github, { 'x-hub-signature-256': 'sha1=abc' }, Buffer.from('x')), { ok: false, reason: 'malformed_signature' })
})

test('github: rotation accepts a delivery signed with either secret; bytes are what is signed', () => {
  const github = provider({ scheme: 'github', secrets: ['new-secret', 'old-secret'] })
  const body = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0xff, 0xfe, 0x7d]) // not valid UTF-8
  for (const secret of ['new-secret', 'old-secret']) {
    const signature = 'sha256=' + createHmac('sha256', secret).update(body).digest('hex')
    assert.equal(verifyWebhookSignature(github, { 'x-hub-signature-256': signature }, body).ok, true, secret)
  }
  const retired = 'sha256=' + createHmac('sha256', 'retired').update(body).digest('hex')
  assert.equal(verifyWebhookSignature(github, { 'x-hub-signature-256': retired }, body).ok, false)
})

test('stripe: headers made by the official stripe library verify; tolerance, tampering, several v1 values', () => {
  const secret = 'whsec_test_secret_0123456789'
  const stripe = provider({ scheme: 'stripe', secret })
  const payload = JSON.stringify({ id: 'evt_1', type: 'payment_intent.succeeded' })
  const sign = (timestamp: number, key = secret) => Stripe.webhooks.generateTestHeaderString({ payload, secret: key, timestamp })
  const body = Buffer.from(payload)

  assert.deepEqual(verifyWebhookSignature(stripe, { 'stripe-signature': sign(nowSeconds) }, body, NOW), { ok: true, deliveryId: undefined })
  assert.equal(verifyWebhookSignature(stripe, { 'stripe-signature': sign(nowSeconds - 299) }, body, NOW).ok, true)
  assert.deepEqual(verifyWebhookSignature(stripe, { 'stripe-signature': sign(nowSeconds - 301) }, body, NOW), { ok: false, reason: 'stale_timestamp' })
  assert.deepEqual(verifyWebhookSignature(stripe, { 'stripe-signature': sign(nowSeconds + 301) }, body, NOW), { ok: false, reason: 'stale_timestamp' })
  assert.deepEqual(verifyWebhookSignature(stripe, { 'stripe-signature': sign(nowSeconds) }, Buffer.from(payload + ' '), NOW), { ok: false, reason: 'signature_mismatch' })
  assert.deepEqual(verifyWebhookSignature(stripe, { 'stripe-signature': sign(nowSeconds, 'whsec_other') }, body, NOW), { ok: false, reason: 'signature_mismatch' })
  assert.deepEqual(verifyWebhookSignature(stripe, {}, body, NOW), { ok: false, reason: 'missing_signature' })
  assert.deepEqual(verifyWebhookSignature(stripe, { 'stripe-signature': 'garbage' }, body, NOW), { ok: false, reason: 'malformed_signature' })

  // Stripe sends one v1 per active secret during a roll: any matching one is enough.
  const good = /v1=([0-9a-f]+)/.exec(sign(nowSeconds))?.[1]
  const several = `t=${nowSeconds},v1=${'0'.repeat(64)},v1=${good},v0=abc`
  assert.equal(verifyWebhookSignature(stripe, { 'stripe-signature': several }, body, NOW).ok, true)
})

test('standard: signatures made by the standardwebhooks reference library verify, both directions of tolerance', () => {
  const secret = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')
  const standard = provider({ scheme: 'standard', secret })
  const reference = new Webhook(secret)
  const payload = '{"type":"invoice.paid","data":{"id":42}}'
  const headersAt = (seconds: number, id = 'msg_2Lh9') => ({
    'webhook-id': id,
    'webhook-timestamp': String(seconds),
    'webhook-signature': reference.sign(id, new Date(seconds * 1000), payload)
  })
  const body = Buffer.from(payload)
  assert.deepEqual(verifyWebhookSignature(standard, headersAt(nowSeconds), body, NOW), { ok: true, deliveryId: 'msg_2Lh9' })
  assert.deepEqual(verifyWebhookSignature(standard, headersAt(nowSeconds - 301), body, NOW), { ok: false, reason: 'stale_timestamp' })
  assert.deepEqual(verifyWebhookSignature(standard, headersAt(nowSeconds + 301), body, NOW), { ok: false, reason: 'stale_timestamp' })
  assert.deepEqual(verifyWebhookSignature(standard, { ...headersAt(nowSeconds), 'webhook-id': 'msg_other' }, body, NOW), { ok: false, reason: 'signature_mismatch' })
  assert.deepEqual(verifyWebhookSignature(standard, headersAt(nowSeconds), Buffer.from(payload.replace('42', '43')), NOW), { ok: false, reason: 'signature_mismatch' })
  const { 'webhook-signature': _omitted, ...unsigned } = headersAt(nowSeconds)
  assert.deepEqual(verifyWebhookSignature(standard, unsigned, body, NOW), { ok: false, reason: 'missing_signature' })
})

test('standard: space-separated signatures allow rotation, and either configured secret verifies', () => {
  const oldSecret = 'whsec_' + Buffer.from('old-secret-old-secret-00').toString('base64')
  const newSecret = 'whsec_' + Buffer.from('new-secret-new-secret-00').toString('base64')
  const payload = '{"ok":true}'
  const signed = (secret: string) => new Webhook(secret).sign('msg_1', new Date(NOW), payload)
  const rotatingSender = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(nowSeconds), 'webhook-signature': `${signed(newSecret)} ${signed(oldSecret)}` }
  assert.equal(verifyWebhookSignature(provider({ scheme: 'standard', secret: oldSecret }), rotatingSender, Buffer.from(payload), NOW).ok, true)
  const oldSender = { ...rotatingSender, 'webhook-signature': signed(oldSecret) }
  assert.equal(verifyWebhookSignature(provider({ scheme: 'standard', secrets: [newSecret, oldSecret] }), oldSender, Buffer.from(payload), NOW).ok, true)
  assert.equal(verifyWebhookSignature(provider({ scheme: 'standard', secrets: [newSecret] }), oldSender, Buffer.from(payload), NOW).ok, false)
})

test('provider configuration is validated at start-up with the option named', () => {
  assert.throws(() => parseWebhookProviders({ gh: { scheme: 'gitlab', secret: 'x' } }), /webhooks\.gh\.scheme/)
  assert.throws(() => parseWebhookProviders({ gh: { scheme: 'github' } }), /webhooks\.gh\.secret/)
  assert.throws(() => parseWebhookProviders({ gh: { scheme: 'github', secrets: [] } }), /webhooks\.gh\.secret/)
  assert.throws(() => parseWebhookProviders({ acme: { scheme: 'standard', secret: 'whsec_***' } }), /webhooks\.acme\.secret/)
  assert.throws(() => parseWebhookProviders({ gh: { scheme: 'github', secret: 'x', trigger: { workflow: 'x' } } }), /webhooks\.gh\.trigger/)
  assert.throws(() => parseWebhookProviders({ 'Bad Name': { scheme: 'github', secret: 'x' } }), /not a valid provider name/)
  assert.throws(() => parseWebhookProviders({ gh: { scheme: 'github', secret: 'x', maxBodyBytes: -1 } }), /maxBodyBytes/)
  const parsed = parseWebhookProviders({ gh: { scheme: 'github', secret: 's', trigger: { workflowName: 'onPush' } } }).get('gh')
  assert.deepEqual(parsed?.trigger, { workflowName: 'onPush' })
  assert.equal(parsed?.toleranceSeconds, 300)
})
