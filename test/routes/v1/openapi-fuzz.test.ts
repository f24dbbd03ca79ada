import assert from 'node:assert/strict'
import { appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import fc from 'fast-check'
import { encodeBody } from '../../../lib/wire/codec.js'
import { KEYS, SEED_KEYS, tempDir } from '../../helper.js'
import { hostileString, invalidValue, mutatedObject, validValue, type JsonSchema } from '../../openapi-arbitraries.js'
import { startStandalone } from '../../standalone.js'

/**
 * Property-based fuzzing of every operation the worker's own OpenAPI document declares, against
 * the built standalone server: valid, boundary and malformed requests, with every kind of key.
 * Seeded: the seed is printed, `COMPUTE_WORKER_FUZZ_SEED=<seed>` replays the same requests;
 * `COMPUTE_WORKER_FUZZ_RUNS` sets the requests per operation, `COMPUTE_WORKER_FUZZ_TRACE=<file>`
 * writes one line per request and answer there.
 */
const SEED_ENV = 'COMPUTE_WORKER_FUZZ_SEED'
const RUNS_PER_OPERATION = Number(process.env.COMPUTE_WORKER_FUZZ_RUNS ?? 24)
const trace = process.env.COMPUTE_WORKER_FUZZ_TRACE
/** The whole fuzzing stays within this; each operation gets its share of what is left. */
const BUDGET_MS = 40_000
const CORRELATION = 'x-workflow-correlation-id'

/** 500s that are the SDK's queue handler's own answer (a delivery it could not run), passed through. */
const SDK_500 = new Set(['POST /.well-known/workflow/v1/{endpoint}'])
/** Error answers in the SDK's shape, not the contract's: its queue handler's `{ error }`, an empty 404 for a webhook token. */
const SDK_SHAPED = [/^POST \/\.well-known\/workflow\/v1\/\{endpoint\} (400|500|503)$/, /^[A-Z]+ \/\.well-known\/workflow\/v1\/webhook\/\{token\} 404$/]

interface Parameter { in: 'path' | 'query' | 'header', name: string, required?: boolean, schema: JsonSchema }
interface Operation {
  method: string
  path: string
  parameters: Parameter[]
  bodies: Record<string, JsonSchema>
  scope: string | undefined
  statuses: Set<string>
  live: boolean
}

interface FuzzRequest {
  variant: string
  key: keyof typeof KEYS | 'anonymous' | 'unknown' | 'malformed'
  path: string
  query: string
  headers: Record<string, string>
  body?: Uint8Array
}

interface Answer { status: number, headers: Headers, body: string, waiting?: boolean }

const LIVE_TYPES = ['text/event-stream', 'application/x-ndjson', 'application/vnd.workflow.stream-frames.v1']

function operationsOf (document: { paths: Record<string, Record<string, any>> }): Operation[] {
  const operations: Operation[] = []
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const responses = operation.responses as Record<string, { content?: Record<string, unknown> }>
      operations.push({
        method: method.toUpperCase(),
        path,
        parameters: operation.parameters ?? [],
        bodies: Object.fromEntries(Object.entries(operation.requestBody?.content ?? {}).map(([type, media]: [string, any]) => [type, media.schema ?? {}])),
        scope: operation.security?.[0]?.apiKey?.[0],
        statuses: new Set(Object.keys(responses)),
        live: LIVE_TYPES.some((type) => responses['200']?.content?.[type] !== undefined)
      })
    }
  }
  return operations
}

const SCOPES_OF_KEY: Record<string, string[]> = Object.fromEntries(
  Object.entries(KEYS).map(([name, key]) => [name, SEED_KEYS.find((seeded) => seeded.key === key)?.scopes ?? []])
)

function authorization (key: FuzzRequest['key']): Record<string, string> {
  if (key === 'anonymous') return {}
  if (key === 'unknown') return { authorization: 'Bearer cw_unknownkeyunknownkeyunknownkeyunknownkey1234abcdef' }
  if (key === 'malformed') return { authorization: 'Basic dXNlcjpwYXNz' }
  return { authorization: `Bearer ${KEYS[key]}` }
}

const asText = (value: unknown): string => typeof value === 'string' ? value : JSON.stringify(value)
// Header values fetch can send: visible ASCII and spaces.
const headerSafe = (value: string): string => value.replace(/[^\x20-\x7e]/g, '').trim() || 'x'

function parameterValue (parameter: Parameter, hostile: boolean): fc.Arbitrary<string> {
  if (!hostile) return validValue(parameter.schema).map(asText)
  return fc.oneof(invalidValue(parameter.schema).map(asText), hostileString, fc.constantFrom(120, 129, 2049, 7000).map((n) => 'p'.repeat(n)))
}

function pathOf (operation: Operation, hostile: boolean): fc.Arbitrary<string> {
  const parameters = operation.parameters.filter((parameter) => parameter.in === 'path')
  if (parameters.length === 0) return fc.constant(operation.path)
  return fc.tuple(...parameters.map((parameter) => fc.tuple(parameterValue(parameter, hostile), fc.boolean()))).map((values) => {
    let path = operation.path
    parameters.forEach((parameter, i) => {
      const [value, raw] = values[i]
      // Hostile values go out encoded, or as they are: malformed percent-encoding included.
      const segment = hostile && raw ? value.replace(/[/?#\s]/g, '') : encodeURIComponent(value)
      path = path.replace(`{${parameter.name}}`, segment === '' ? '%20' : segment)
    })
    return path
  })
}

function queryOf (operation: Operation, hostile: boolean): fc.Arbitrary<string> {
  const parameters = operation.parameters.filter((parameter) => parameter.in === 'query')
  const pairs = parameters.map((parameter) => {
    const pair = parameterValue(parameter, hostile).map((value) => [parameter.name, value] as const)
    // A required parameter is left out only by a malformed request.
    return parameter.required === true && !hostile ? pair : fc.option(pair, { nil: undefined })
  })
  const extra = hostile ? fc.array(fc.tuple(hostileString, hostileString), { maxLength: 2 }) : fc.constant([])
  return fc.tuple(fc.tuple(...pairs), extra).map(([chosen, more]) => {
    const search = new URLSearchParams()
    for (const pair of [...chosen, ...more]) if (pair !== undefined) search.append(pair[0], pair[1])
    const text = search.toString()
    return text === '' ? '' : `?${text}`
  })
}

function encoded (type: string, value: unknown): Uint8Array {
  if (type === 'application/cbor') return new Uint8Array(encodeBody(value, 'cbor') as Uint8Array)
  if (type === 'application/octet-stream') return value instanceof Uint8Array ? value : new TextEncoder().encode(asText(value))
  return new TextEncoder().encode(JSON.stringify(value))
}

/** The body and its content type: one the operation declares, a value of its schema (or one thing wrong with it), broken bytes, or another type. */
function bodyOf (operation: Operation, mode: 'valid' | 'mutated' | 'bytes' | 'media'): fc.Arbitrary<{ type?: string, body?: Uint8Array }> {
  if (operation.method === 'GET' || operation.method === 'HEAD') return fc.constant({})
  const declared = Object.entries(operation.bodies)
  const random = fc.uint8Array({ maxLength: 64 })
  if (declared.length === 0 && mode === 'valid') return fc.constant({})
  if (declared.length === 0 || mode === 'media') {
    const type = fc.constantFrom('application/json', 'text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded')
    return fc.record({ type, body: fc.oneof(random, fc.jsonValue().map((value) => encoded('application/json', value))) })
  }
  return fc.constantFrom(...declared).chain(([type, schema]) => {
    if (mode === 'bytes') {
      const texts = ['{"a":', '[1,', '\u0000', 'null', '', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}', '['.repeat(5000), '1e99999', '"\ud800"']
      const broken = type === 'application/octet-stream' ? random : fc.oneof(random, fc.constantFrom(...texts).map((text) => new TextEncoder().encode(text)))
      return broken.map((body) => ({ type, body }))
    }
    const value = mode === 'valid' ? validValue(schema) : mutatedObject(schema)
    return (type === 'application/octet-stream' && mode === 'valid' ? random : value).map((body) => ({ type, body: encoded(type, body) }))
  })
}

const VARIANTS = ['valid', 'valid', 'valid', 'body', 'bytes', 'media', 'path', 'query'] as const
const KEY_NAMES = ['anonymous', 'unknown', 'malformed', ...Object.keys(KEYS)] as Array<FuzzRequest['key']>

/** Half the requests carry a key that may call the operation (else few would get past auth), half any other. */
function keyFor (operation: Operation): fc.Arbitrary<FuzzRequest['key']> {
  const entitled = KEY_NAMES.filter((key) => operation.scope === undefined || (SCOPES_OF_KEY[key] ?? []).includes(operation.scope))
  return fc.oneof(fc.constantFrom(...entitled), fc.constantFrom(...KEY_NAMES))
}

function requestOf (operation: Operation): fc.Arbitrary<FuzzRequest> {
  return fc.record({ variant: fc.constantFrom(...VARIANTS), key: keyFor(operation) }).chain(({ variant, key }) => fc.record({
    path: pathOf(operation, variant === 'path'),
    query: queryOf(operation, variant === 'query'),
    body: bodyOf(operation, variant === 'body' ? 'mutated' : variant === 'bytes' ? 'bytes' : variant === 'media' ? 'media' : 'valid'),
    header: fc.tuple(...operation.parameters.filter((parameter) => parameter.in === 'header')
      .map((parameter) => parameterValue(parameter, variant === 'query').map((value) => [parameter.name, headerSafe(value)] as const)))
  }).map(({ path, query, body, header }) => ({
    variant,
    key,
    path,
    query,
    headers: { ...authorization(key), ...Object.fromEntries(header), ...(body.type === undefined ? {} : { 'content-type': body.type }) },
    body: body.body
  })))
}

async function send (url: string, operation: Operation, request: FuzzRequest): Promise<Answer> {
  const signal = AbortSignal.timeout(operation.live ? 3_000 : 15_000)
  let response: Response
  try {
    response = await fetch(`${url}${request.path}${request.query}`, { method: operation.method, headers: request.headers, body: request.body as BodyInit | undefined, signal, redirect: 'manual' })
  } catch (error) {
    // A live read of a stream nobody writes sends nothing until its first PING (15 s): waiting is its answer.
    if (operation.live && signal.aborted) return { status: 0, headers: new Headers(), body: '', waiting: true }
    throw error
  }
  const live = response.ok && LIVE_TYPES.some((type) => response.headers.get('content-type')?.startsWith(type))
  if (live) {
    await response.body?.cancel()
    return { status: response.status, headers: response.headers, body: '' }
  }
  return { status: response.status, headers: response.headers, body: await response.text() }
}

/** What every answer must be, whatever was sent. Throws with what was sent and answered. */
function check (operation: Operation, request: FuzzRequest, answer: Answer): void {
  if (answer.waiting === true) return
  const { status, headers, body } = answer
  const statusKey = `${operation.method} ${operation.path} ${status}`
  const fail = (why: string): never => {
    const sent = { ...request, headers: { ...request.headers, authorization: request.headers.authorization === undefined ? undefined : '…' }, body: request.body === undefined ? undefined : Buffer.from(request.body).toString('utf8').slice(0, 300) }
    throw new Error(`${operation.method} ${operation.path}: ${why}\nsent ${JSON.stringify(sent)}\nanswered ${status} ${body.slice(0, 500)}`)
  }
  const correlationId = headers.get(CORRELATION)
  if (correlationId === null || correlationId === '') fail('no correlation id')
  if (status >= 500 && !(operation.statuses.has(String(status)) && (status !== 500 || SDK_500.has(`${operation.method} ${operation.path}`)))) {
    fail(`an undocumented ${status}`)
  }
  if (status >= 400 && operation.method !== 'HEAD' && !SDK_SHAPED.some((pattern) => pattern.test(statusKey))) {
    let error: { code?: unknown, message?: unknown, correlationId?: unknown }
    try {
      error = JSON.parse(body)
    } catch {
      return fail('an error that is not JSON')
    }
    if (typeof error.code !== 'string' || !/^[a-z][a-z0-9_]*$/.test(error.code)) fail('an error without a snake_case code')
    if (typeof error.message !== 'string' || error.message === '') fail('an error without a message')
    if (error.correlationId !== correlationId) fail('an error whose correlationId is not the header\'s')
  }
  if (status >= 200 && status < 300 && operation.scope !== undefined && !(SCOPES_OF_KEY[request.key] ?? []).includes(operation.scope)) {
    fail(`a ${status} to a caller without ${operation.scope}`)
  }
}

async function assertWithSeed (seed: number, property: fc.IAsyncProperty<[FuzzRequest]>, parameters: fc.Parameters<[FuzzRequest]>): Promise<void> {
  try {
    await fc.assert(property, parameters)
  } catch (error) {
    throw new Error(`${SEED_ENV}=${seed} replays this: ${(error as Error).message}`, { cause: error })
  }
}

test('fuzz: every operation of the OpenAPI document, valid, boundary and malformed, with and without keys of each scope', async (t) => {
  const seed = Number(process.env[SEED_ENV] ?? Math.floor(Math.random() * 2 ** 31))
  t.diagnostic(`seed ${seed}: replay with ${SEED_ENV}=${seed}`)
  const dir = await tempDir(t)
  const worker = await startStandalone(t, {
    COMPUTE_WORKER_SQLITE_PATH: join(dir, 'worker.db'),
    COMPUTE_WORKER_ARTIFACT_DIR: join(dir, 'artifacts'),
    WORKFLOW_LOCAL_DATA_DIR: join(dir, 'world'),
    // Nothing is throttled: the point is what each request gets, not the rate limit (tested elsewhere).
    COMPUTE_WORKER_API_KEYS: JSON.stringify(SEED_KEYS.map((key) => ({ ...key, rateLimitPerMinute: 1_000_000 }))),
    COMPUTE_WORKER_RATE_LIMIT_PER_MINUTE: '1000000'
  })
  const operations = operationsOf(await (await fetch(`${worker.url}/v1/openapi.json`)).json())
  assert.ok(operations.length > 50, `the document lists the worker's operations (${operations.length})`)

  const deadline = Date.now() + BUDGET_MS
  let sent = 0
  for (const [index, operation] of operations.entries()) {
    const share = Math.max(250, (deadline - Date.now()) / (operations.length - index))
    await assertWithSeed(seed, fc.asyncProperty(requestOf(operation), async (request) => {
      sent++
      const answer = await send(worker.url, operation, request)
      if (trace !== undefined) appendFileSync(trace, `${answer.status} ${operation.method} ${operation.path} ${request.variant} ${request.key} ${request.path.slice(0, 80)}${request.query.slice(0, 80)} ${answer.body.slice(0, 120)}\n`)
      check(operation, request, answer)
    }), { seed: seed + index, numRuns: RUNS_PER_OPERATION, endOnFailure: true, interruptAfterTimeLimit: share, markInterruptAsFailure: false, includeErrorInReport: true })
  }
  t.diagnostic(`${sent} requests over ${operations.length} operations`)
  assert.ok(sent >= operations.length * 4, `every operation was exercised (${sent} requests)`)

  // The process took all of it and still serves.
  assert.equal(worker.child.exitCode, null, worker.lines.slice(-20).join('\n'))
  const ready = await fetch(`${worker.url}/v1/health/ready`)
  assert.equal(ready.status, 200, await ready.text())
})
