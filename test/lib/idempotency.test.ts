import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fingerprintOf, readIdempotencyKey } from '../../lib/idempotency/fingerprint.js'

test('fingerprints ignore key order and whitespace, not values', () => {
  assert.equal(fingerprintOf({ a: 1, b: { c: [1, 2], d: 'x' } }), fingerprintOf(JSON.parse('{ "b": {"d":"x","c":[1,2]}, "a": 1 }')))
  assert.notEqual(fingerprintOf({ a: [1, 2] }), fingerprintOf({ a: [2, 1] }))
  assert.notEqual(fingerprintOf({ a: 1 }), fingerprintOf({ a: '1' }))
})

test('Idempotency-Key: required, 1–255 printable characters', () => {
  assert.throws(() => readIdempotencyKey(undefined), { code: 'idempotency_key_required' })
  for (const bad of ['', '   ', 'x'.repeat(256), 'new\nline', 'ü', ['a', 'b']]) {
    assert.throws(() => readIdempotencyKey(bad), { code: 'validation_error' }, JSON.stringify(bad))
  }
  assert.equal(readIdempotencyKey('order-42:retry 1'), 'order-42:retry 1')
})
