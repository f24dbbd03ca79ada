import assert from 'node:assert/strict'
import { test } from 'node:test'
import { validate } from '@readme/openapi-parser'
import type { FastifyInstance, RouteOptions } from 'fastify'
import Fastify from 'fastify'
import Schema from 'typebox/schema'
import { computeWorkerPlugin } from '../../../app.js'
import { FrameDecoder, FrameKind } from '../../../lib/wire/frames.js'
import { createInProcessCompute } from '../../../lib/compute/index.js'
import { bearer, build, KEYS, testOptions } from '../../helper.js'

/**
 * Routes left out of the document on purpose (`schema.hide`), by URL prefix. Any other hidden
 * route fails the test: hiding a route is a decision to write down here.
 */
const HIDDEN = [
  // The Swagger UI page, its JSON/YAML copies of the document and its static assets.
  '/docs',
  // The operator's dashboard: HTML pages for a browser session, clients of the documented routes.
  '/ui',
  // The executor's queue delivery routes (world-postgres delivers jobs over HTTP to the worker
  // itself): plumbing between the World and this process, not an API anyone should call.
  '/.well-known/workflow/v1/'
]

/**
 * Routes without a bearer key: health probes, this document, provider webhooks (signature), the
 * executor's routes (queue deliveries: loopback or delivery secret; the SDK's webhook URLs: the token).
 */
const PUBLIC = [/^\/v1\/health(\/|$)/, /^\/v1\/openapi\.json$/, /^\/v1\/webhooks\//, /^\/\.well-known\/workflow\/v1\//]

interface Collected { method: string, url: string, readonly hidden: boolean, readonly authenticated: boolean, readonly scope?: string }
interface Operation {
  operationId?: string
  summary?: string
  tags?: string[]
  security?: Array<Record<string, string[]>>
  'x-required-scope'?: string | null
  parameters?: Array<{ in: string, name: string, required?: boolean }>
  requestBody?: { content: Record<string, Media> }
  responses: Record<string, { $ref?: string, content?: Record<string, Media> }>
}
interface Media { schema?: Record<string, unknown>, example?: unknown, examples?: Record<string, { summary?: string, value: unknown }> }
interface Document {
  openapi: string
  paths: Record<string, Record<string, Operation>>
  tags: Array<{ name: string }>
  components: { securitySchemes: Record<string, { type: string, scheme?: string }>, responses: Record<string, unknown> }
}

const openapiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
const isHidden = (url: string) => HIDDEN.some((prefix) => url.startsWith(prefix))

/** Every route of the app as Fastify registers it, but the HEAD routes Fastify adds to each GET. */
function collectRoutes (app: FastifyInstance, into: Collected[]): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    if (route.method === 'HEAD') return
    // The url is copied now (Fastify rewrites it for a prefixed '/' route once the hooks ran);
    // schema and config are read later, once the folders' own onRoute hooks (scopes) have run.
    for (const method of [route.method].flat()) {
      into.push({
        method,
        url: route.url,
        get hidden () { return route.schema?.hide === true },
        get authenticated () { return route.config?.auth !== false },
        get scope () { return route.config?.scope }
      })
    }
  })
}

const ERROR_SCHEMA_REF = '#/components/schemas/ErrorResponse'

function errorRef (operation: Operation, status: number): string | undefined {
  return operation.responses[status]?.$ref
}

/**
 * An error answer of a route that may also answer in a shape of its own: the worker's error is
 * one of its alternatives, or its schema has the error's fields (the probes' 503).
 */
function includesErrorShape (response: { content?: Record<string, Media> } | undefined): boolean {
  return Object.values(response?.content ?? {}).some(({ schema }) => {
    const members = (schema?.anyOf ?? [schema]) as Array<Record<string, unknown> | undefined>
    return members.some((member) => member?.$ref === ERROR_SCHEMA_REF ||
      ['code', 'message', 'correlationId'].every((field) => (member?.required as string[] | undefined)?.includes(field)))
  })
}

/** The error answer of `status`: the shared response, or one that includes the error shape. */
function answersError (operation: Operation, status: number, shared: string): boolean {
  return errorRef(operation, status) === `#/components/responses/${shared}` ||
    (errorRef(operation, status) === undefined && includesErrorShape(operation.responses[status]))
}

/** Error answers in the SDK's own shape only (`{ error }`): its queue handler's, passed through. */
const SDK_ERROR_ANSWERS = new Set([
  'post /.well-known/workflow/v1/{endpoint} 503',
  // A webhook URL answers an unknown token as the SDK answers a token that is no webhook: 404 without a body.
  ...['get', 'head', 'post', 'put', 'patch', 'delete', 'options'].map((method) => `${method} /.well-known/workflow/v1/webhook/{token} 404`)
])

/** Bodies a schema describes: their examples must match it. Others (streams, raw bytes) have textual ones. */
const SCHEMA_MEDIA_TYPES = new Set(['application/json', 'application/cbor'])

/** Each request body and each 2xx answer with content, by media type. */
function * documentedBodies (document: Document): Generator<{ where: string, type: string, media: Media }> {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const where = `${method.toUpperCase()} ${path}`
      for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) yield { where: `${where} request ${type}`, type, media }
      for (const [status, response] of Object.entries(operation.responses)) {
        if (!status.startsWith('2')) continue
        for (const [type, media] of Object.entries(response.content ?? {})) yield { where: `${where} ${status} ${type}`, type, media }
      }
    }
  }
}

/** A media object's examples: its `example` and the values of its `examples`. */
function examplesOf (media: Media): unknown[] {
  return [...(media.example !== undefined ? [media.example] : []), ...Object.values(media.examples ?? {}).map((example) => example.value)]
}

test('GET /v1/openapi.json', async (t) => {
  // One app for these checks: the document only reads the routes.
  const routes: Collected[] = []
  // With the executor, so that its routes (/.well-known/workflow/v1/*) are registered and checked too.
  const { app } = await build(t, { compute: createInProcessCompute() }, (instance) => collectRoutes(instance, routes))
  const res = await app.inject({ url: '/v1/openapi.json' })
  assert.equal(res.statusCode, 200)
  assert.match(res.headers['content-type'] as string, /^application\/json/)
  const document: Document = res.json()

  await t.test('is a valid OpenAPI 3.1 document', async () => {
    assert.equal(document.openapi, '3.1.0')
    const result = await validate(structuredClone(document) as never)
    assert.equal(result.valid, true, JSON.stringify(result, null, 2))
    assert.deepEqual(result.warnings, [])
  })

  await t.test('documents every registered route with its method; hidden ones are the listed ones', () => {
    assert.ok(routes.length > 30, `routes were collected (${routes.length})`)
    for (const route of routes) {
      if (route.hidden) {
        assert.ok(isHidden(route.url), `${route.method} ${route.url} is hidden but not listed in HIDDEN`)
        continue
      }
      const path = openapiPath(route.url.length > 1 ? route.url.replace(/\/$/, '') : route.url)
      assert.ok(document.paths[path]?.[route.method.toLowerCase()], `${route.method} ${route.url} is missing from the document`)
    }
    const documented = new Set(routes.filter((route) => !route.hidden).map((route) => `${route.method.toLowerCase()} ${openapiPath(route.url)}`))
    for (const [path, item] of Object.entries(document.paths)) {
      for (const method of Object.keys(item)) assert.ok(documented.has(`${method} ${path}`), `${method} ${path} documents no route`)
    }
  })

  await t.test('every operation has an id, a summary, declared tags, a 2xx answer and the error shape on 500', () => {
    const tags = new Set(document.tags.map((tag) => tag.name))
    const ids = new Set<string>()
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const where = `${method.toUpperCase()} ${path}`
        assert.ok(operation.operationId !== undefined && !ids.has(operation.operationId), `${where}: unique operationId`)
        ids.add(operation.operationId)
        assert.ok(operation.summary, `${where}: summary`)
        assert.ok(operation.tags?.length, `${where}: tags`)
        for (const tag of operation.tags) assert.ok(tags.has(tag), `${where}: tag ${tag} is declared at the top`)
        assert.ok(Object.keys(operation.responses).some((status) => status.startsWith('2')), `${where}: a 2xx response`)
        assert.ok(answersError(operation, 500, 'InternalError'), `${where}: 500`)
        for (const [status, response] of Object.entries(operation.responses)) {
          if (!/^[45]/.test(status) || SDK_ERROR_ANSWERS.has(`${method} ${path} ${status}`)) continue
          assert.ok(response.$ref !== undefined || includesErrorShape(response), `${where}: ${status} answers the error shape`)
        }
      }
    }
  })

  await t.test('authenticated routes carry the bearer requirement with their scope; public ones carry none', () => {
    const scheme = document.components.securitySchemes.apiKey
    assert.deepEqual({ type: scheme.type, scheme: scheme.scheme }, { type: 'http', scheme: 'bearer' })
    for (const route of routes.filter((candidate) => !candidate.hidden)) {
      const operation = document.paths[openapiPath(route.url.length > 1 ? route.url.replace(/\/$/, '') : route.url)][route.method.toLowerCase()]
      const where = `${route.method} ${route.url}`
      const listedPublic = PUBLIC.some((pattern) => pattern.test(route.url))
      assert.equal(route.authenticated, !listedPublic, `${where}: public exactly when listed in PUBLIC`)
      if (!route.authenticated) {
        assert.equal(operation.security, undefined, `${where}: no security requirement`)
        continue
      }
      assert.deepEqual(operation.security, [{ apiKey: route.scope === undefined ? [] : [route.scope] }], `${where}: security`)
      assert.equal(operation['x-required-scope'], route.scope ?? null, `${where}: x-required-scope`)
      assert.equal(errorRef(operation, 401), '#/components/responses/Unauthorized', `${where}: 401`)
      assert.equal(errorRef(operation, 403), '#/components/responses/Forbidden', `${where}: 403`)
      assert.equal(errorRef(operation, 429), '#/components/responses/RateLimited', `${where}: 429`)
    }
  })

  await t.test('bodies answer 400/413/415 and path parameters 400/404 with the error shape', () => {
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const where = `${method.toUpperCase()} ${path}`
        if (['post', 'put', 'patch'].includes(method)) {
          assert.ok(answersError(operation, 400, 'BadRequest'), `${where}: 400`)
          assert.ok(answersError(operation, 413, 'PayloadTooLarge'), `${where}: 413`)
          // Provider webhooks verify the bytes of any Content-Type.
          if (path === '/v1/webhooks/{provider}') assert.equal(operation.responses['415'], undefined, `${where}: no 415`)
          else assert.ok(answersError(operation, 415, 'UnsupportedMediaType'), `${where}: 415`)
        }
        if (path.includes('{')) {
          assert.ok(answersError(operation, 400, 'BadRequest'), `${where}: 400`)
          if (SDK_ERROR_ANSWERS.has(`${method} ${path} 404`)) assert.equal(operation.responses['404'].content, undefined, `${where}: 404 without a body`)
          else assert.ok(answersError(operation, 404, 'NotFound'), `${where}: 404`)
        }
      }
    }
    const components = document.components as unknown as {
      schemas: Record<string, Record<string, unknown>>
      responses: Record<string, { description: string, content: Record<string, Media> }>
    }
    const errorShape = components.schemas.ErrorResponse
    assert.deepEqual(errorShape.required, ['code', 'message', 'correlationId'])
    for (const [name, response] of Object.entries(components.responses)) {
      const media = response.content['application/json']
      assert.deepEqual(media.schema, { $ref: '#/components/schemas/ErrorResponse' }, name)
      assert.ok(Schema.Check(errorShape as never, media.example), `${name}: the example is an ErrorResponse`)
      assert.ok(response.description.includes(`\`${(media.example as { code: string }).code}\``), `${name}: the example's code is one the description lists`)
    }
  })

  await t.test('every request body and 2xx answer has an example per media type; JSON and CBOR ones match their schema', () => {
    const bodies = [...documentedBodies(document)]
    assert.ok(bodies.length > 60, `bodies were collected (${bodies.length})`)
    for (const { where, type, media } of bodies) {
      const examples = examplesOf(media)
      assert.ok(examples.length > 0, `${where}: an example`)
      for (const example of examples) {
        if (SCHEMA_MEDIA_TYPES.has(type)) assert.ok(Schema.Check(media.schema as never, example), `${where}: the example matches the schema`)
        else assert.ok(typeof example === 'string' && example !== '', `${where}: a textual example`)
      }
    }
  })

  await t.test('the examples of streamed and binary bodies are what the worker writes', () => {
    const only = (media: Media | undefined) => {
      const examples = examplesOf(media ?? {})
      assert.equal(examples.length, 1)
      return examples[0] as string
    }
    const runStream = document.paths['/v1/runs/{id}/stream'].get.responses['200'].content!
    assert.match(only(runStream['text/event-stream']), /^id: 0\ndata: .+\n\nid: 1\ndata: .+\n\nevent: end\ndata: \{"nextIndex":2\}\n\n$/)
    const lines = only(runStream['application/x-ndjson']).trimEnd().split('\n').map((line) => JSON.parse(line))
    assert.deepEqual(lines.map((line) => line.index ?? 'end'), [0, 1, 'end'])

    const read = only(document.paths['/v1/world/streams/read'].get.responses['200'].content!['application/vnd.workflow.stream-frames.v1'])
    const frames = new FrameDecoder().push(new Uint8Array(Buffer.from(read.replaceAll('\n', ''), 'hex')))
    assert.deepEqual(frames.map(({ kind, index }) => [kind, index]), [[FrameKind.DATA, 0], [FrameKind.DATA, 1], [FrameKind.END, 2]])
    const write = document.paths['/v1/world/streams/write'].post.requestBody!.content
    assert.equal(only(write['application/octet-stream']), Buffer.from(frames[0].payload).toString('hex'), 'a raw write is one chunk as a read returns it')
    // The stored chunk is the SDK's: u32be length, then its serialization format prefix.
    assert.equal(Buffer.from(frames[0].payload).subarray(4, 8).toString(), 'devl')
  })

  await t.test('POST /v1/runs documents its required idempotency-key header', () => {
    const trigger = document.paths['/v1/runs'].post
    assert.deepEqual(trigger.parameters?.find((parameter) => parameter.name === 'idempotency-key'), {
      ...trigger.parameters?.find((parameter) => parameter.name === 'idempotency-key'),
      in: 'header',
      required: true
    })
  })

  await t.test('answers without a key; /docs serves the UI page and every asset it links, offline', async () => {
    assert.equal((await app.inject({ url: '/v1/openapi.json', headers: bearer('not-a-key-000000000000000') })).statusCode, 200)
    const page = await app.inject({ url: '/docs' })
    assert.equal(page.statusCode, 200)
    assert.match(page.headers['content-type'] as string, /^text\/html/)
    assert.match(page.headers['content-security-policy'] as string, /default-src 'self'/)
    await assertAssetsServed(app, page.body, '/docs/static/')
    const slash = await app.inject({ url: '/docs/' })
    assert.equal(slash.statusCode, 200)
    assert.deepEqual((await app.inject({ url: '/docs/json' })).json(), document, 'the UI reads the same document')
    // Authenticated routes are still authenticated.
    assert.equal((await app.inject({ url: '/v1/runs' })).statusCode, 401)
    assert.equal((await app.inject({ url: '/v1/runs', headers: bearer(KEYS.runsRead) })).statusCode, 200)
  })
})

/** Every `href`/`src` of the page answers 200 from the worker itself (nothing from a CDN). */
async function assertAssetsServed (app: FastifyInstance, html: string, prefix: string): Promise<void> {
  const links = [...html.matchAll(/(?:href|src)="([^"]+)"/g)].map((match) => match[1])
  assert.ok(links.length >= 4, `the page links its assets: ${links.join(', ')}`)
  for (const link of links) {
    assert.ok(link.startsWith(prefix), `${link} is served by the worker under ${prefix}`)
    const asset = await app.inject({ url: link })
    assert.equal(asset.statusCode, 200, link)
    assert.ok(asset.rawPayload.length > 0, link)
  }
  const initializer = await app.inject({ url: `${prefix}swagger-initializer.js` })
  assert.equal(initializer.statusCode, 200)
  // The UI reads the document next to it and sends it to no online validator.
  assert.match(initializer.body, /url: resolveUrl\('\.\/json'\)/)
  assert.match(initializer.body, /validatorUrl: null/)
}

test('GET /v1/openapi.json is outside the rate limit and the HTTPS requirement, like health; /docs is not', async (t) => {
  const { app } = await build(t, { requireHttps: true, rateLimitPerMinute: 1 })
  for (let i = 0; i < 3; i++) assert.equal((await app.inject({ url: '/v1/openapi.json' })).statusCode, 200)
  assert.equal((await app.inject({ url: '/v1/runs', headers: bearer(KEYS.runsRead) })).json().code, 'https_required')
  // The UI is where keys are typed: it follows requireHttps.
  assert.equal((await app.inject({ url: '/docs' })).json().code, 'https_required')
})

test('mounted under a prefix in a host app: the document, the UI and the host routes all work', async (t) => {
  const { options } = await testOptions(t)
  const host = Fastify()
  t.after(() => host.close())
  host.get('/', async () => ({ host: 'root' }))
  host.get('/docs', async () => 'host docs')
  await host.register(computeWorkerPlugin, { ...options, prefix: '/compute' })
  await host.ready()

  const res = await host.inject({ url: '/compute/v1/openapi.json' })
  assert.equal(res.statusCode, 200)
  const document = res.json() as Document
  assert.ok(document.paths['/compute/v1/runs/{id}']?.get, 'paths carry the mount prefix')
  assert.ok(Object.keys(document.paths).every((path) => path.startsWith('/compute/')))
  assert.equal((await validate(structuredClone(document) as never)).valid, true)

  for (const url of ['/compute/docs', '/compute/docs/']) {
    const page = await host.inject({ url })
    assert.equal(page.statusCode, 200, url)
    await assertAssetsServed(host, page.body.replaceAll('href="./static/', 'href="/compute/docs/static/').replaceAll('src="./static/', 'src="/compute/docs/static/'), '/compute/docs/static/')
  }
  assert.deepEqual((await host.inject({ url: '/compute/docs/json' })).json(), document)

  assert.deepEqual((await host.inject({ url: '/' })).json(), { host: 'root' })
  assert.equal((await host.inject({ url: '/docs' })).body, 'host docs')
})

test('mounted without a prefix into a host that serves /docs itself: the host keeps it, the document is served', async (t) => {
  const { options } = await testOptions(t)
  const host = Fastify()
  t.after(() => host.close())
  host.get('/docs', async () => 'host docs')
  await host.register(computeWorkerPlugin, options)
  await host.ready()
  assert.equal((await host.inject({ url: '/docs' })).body, 'host docs')
  assert.equal((await host.inject({ url: '/v1/openapi.json' })).statusCode, 200)
})
