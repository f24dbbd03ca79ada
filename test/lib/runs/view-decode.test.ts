import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { importKey } from '@workflow/core/encryption'
import {
  dehydrateWorkflowArguments, dehydrateWorkflowReturnValue, hydrateWorkflowArguments, hydrateWorkflowReturnValue
} from '@workflow/core/serialization'
import type { World, WorkflowRun } from '@workflow/world'
import { stringify } from 'devalue'
import { decodeRunData, toJsonValue } from '../../../lib/runs/view.js'

// decodeRunData decodes with revivers built once; the SDK's hydrate functions build theirs per
// call. Both must give the same JSON for every kind of value a run carries.
const VALUES: Array<[string, unknown]> = [
  ['scalars', [1, 'two', true, null, 4.5]],
  ['nested objects', [{ order: 'o-1', lines: [{ sku: 'a', qty: 2 }], meta: { deep: { deeper: [1, [2, [3]]] } } }]],
  ['dates, bigints, maps, sets', [new Date('2026-12-04T10:00:00.000Z'), 12345678901234567890n, new Map([['a', 1], ['b', 2]]), new Map<unknown, unknown>([[1, 'x']]), new Set([1, 2, 3])]],
  ['bytes', [new Uint8Array([1, 2, 3, 250]), new Uint8Array([]).buffer, new Float64Array([1.5, -2])]],
  ['URLs, regexps, errors', [new URL('https://example.com/a?b=c'), /ab+c/gi, new URLSearchParams('a=1&b=2')]],
  ['special numbers', [Number.NaN, Number.POSITIVE_INFINITY, -0, undefined]],
  ['shared references', (() => { const shared = { id: 7 }; return [shared, { again: shared }] })()],
  ['holes and null-prototype objects', [[1, , 3], Object.assign(Object.create(null), { bare: true })]], // eslint-disable-line no-sparse-arrays
  ['deep nesting', [Array.from({ length: 40 }).reduce<unknown>((inner) => ({ inner }), 'bottom')]],
  ['no arguments', []]
]

function runOf (input: unknown, output: unknown, status: WorkflowRun['status'] = 'completed'): WorkflowRun {
  const now = new Date()
  return { runId: 'wrun_01M9155NJ9PHZZPN531T6G9KM7', status, workflowName: 'w', deploymentId: 'd', specVersion: 3, input, output, createdAt: now, updatedAt: now } as unknown as WorkflowRun
}

function worldWithKey (raw: Uint8Array | undefined): World {
  return { getEncryptionKeyForRun: async () => raw } as unknown as World
}

for (const encrypted of [false, true]) {
  test(`decodeRunData gives what the SDK's hydrate functions give${encrypted ? ', encrypted' : ''}`, async () => {
    const raw = encrypted ? new Uint8Array(randomBytes(32)) : undefined
    const key = raw === undefined ? undefined : await importKey(raw)
    const world = worldWithKey(raw)
    for (const [label, value] of VALUES) {
      const runId = 'wrun_01M9155NJ9PHZZPN531T6G9KM7'
      const input = await dehydrateWorkflowArguments(value, runId, key)
      const output = await dehydrateWorkflowReturnValue({ result: value }, runId, key)
      const decoded = await decodeRunData(world, runOf(input, output))
      assert.deepEqual(decoded.input, toJsonValue(await hydrateWorkflowArguments(input, runId, key)), label)
      assert.deepEqual(decoded.output, toJsonValue(await hydrateWorkflowReturnValue(output, runId, key)), label)
    }
  })
}

test('decodeRunData reads runs of specVersion 1 (plain devalue arrays) and skips the output until completed', async () => {
  const world = worldWithKey(undefined)
  const legacy = JSON.parse(stringify(['legacy', { n: 1 }]))
  const running = await decodeRunData(world, runOf(legacy, JSON.parse(stringify('done')), 'running'))
  assert.deepEqual(running, { input: ['legacy', { n: 1 }] })
  const completed = await decodeRunData(world, runOf(legacy, JSON.parse(stringify('done'))))
  assert.deepEqual(completed, { input: ['legacy', { n: 1 }], output: 'done' })
})

test('decodeRunData refuses encrypted data without a key, as the SDK does', async () => {
  const key = await importKey(new Uint8Array(randomBytes(32)))
  const input = await dehydrateWorkflowArguments(['secret'], 'wrun_01M9155NJ9PHZZPN531T6G9KM7', key)
  await assert.rejects(decodeRunData(worldWithKey(undefined), runOf(input, undefined, 'pending')), /no encryption key/)
})
