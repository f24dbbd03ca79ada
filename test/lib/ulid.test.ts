import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decodeTime } from 'ulid'
import { newUlid } from '../../lib/ulid.js'

const CROCKFORD_ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/

test('newUlid makes valid, unique, increasing ULIDs of now, across refills of its random pool', () => {
  const before = Date.now()
  const ids: string[] = []
  // Distinct times draw fresh randomness for each id: 16 bytes each, so 1000 ids refill the 4 KiB pool.
  for (let i = 0; i < 1000; i++) ids.push(newUlid(before + i))
  for (let i = 0; i < 1000; i++) ids.push(newUlid())
  for (const id of ids) assert.match(id, CROCKFORD_ULID)
  assert.equal(new Set(ids).size, ids.length)
  assert.deepEqual([...ids].sort(), ids, 'monotonic')
  assert.equal(decodeTime(ids[0]), before)
  const randomParts = new Set(ids.slice(0, 1000).map((id) => id.slice(10)))
  assert.equal(randomParts.size, 1000, 'the random part is drawn afresh for each new millisecond')
  // Every character of the random part occurs: the bytes map onto the whole alphabet.
  assert.equal(new Set(ids.slice(0, 1000).flatMap((id) => [...id.slice(10)])).size, 32)
})
