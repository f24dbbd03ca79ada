import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import { promisify } from 'node:util'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/**
 * Run in a fresh Node process: imports the built `./client` through the package's exports, makes
 * a ComputeClient, a remote World and its queue handler, and prints every module resolved (ESM,
 * through a resolve hook) and loaded (CommonJS, `require.cache`).
 */
const PROBE = `
import { createRequire, register } from 'node:module'
import { once } from 'node:events'
import { MessageChannel } from 'node:worker_threads'
const { port1, port2 } = new MessageChannel()
register('data:text/javascript,' + encodeURIComponent(\`
  const urls = []
  export function initialize ({ port }) { port.on('message', () => port.postMessage(urls)); port.unref() }
  export async function resolve (specifier, context, next) {
    const resolved = await next(specifier, context)
    urls.push(resolved.url)
    return resolved
  }\`), { data: { port: port2 }, transferList: [port2] })
const client = await import('@workflow-studio/compute-worker/client')
new client.ComputeClient({ baseUrl: 'http://127.0.0.1:9', apiKey: 'k' })
const world = client.createRemoteWorld({ baseUrl: 'http://127.0.0.1:9', apiKey: 'k', deliverySecret: 's' })
world.createQueueHandler('__wkf_workflow_', async () => {})
port1.postMessage('list')
const [resolved] = await once(port1, 'message')
port1.close()
console.log(JSON.stringify([...resolved, ...Object.keys(createRequire(import.meta.url).cache)]))
`

/** Packages of the server: none may load with the client. world-local is loaded at the first queue delivery only. */
const SERVER_PACKAGES = [
  'fastify', '@fastify/', 'fastify-plugin', 'better-sqlite3', 'drizzle-orm', 'pg', 'graphile-worker', 'close-with-grace',
  '@workflow/world-local', '@workflow/world-postgres', '@workflow/core'
]

/** The package's own modules the client may load: itself, the wire protocol, and two constant modules. */
const CLIENT_MODULES = [/^dist\/lib\/client\//, /^dist\/lib\/wire\//, /^dist\/lib\/headers\.js$/, /^dist\/lib\/bytes\.js$/]

test('the built ./client loads no server code in a fresh process: no Fastify, SQLite, world-local, nor the worker\'s own server modules', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '--eval', PROBE], { cwd: ROOT })
  const loaded = [...new Set((JSON.parse(stdout) as string[]).map((entry) => entry.startsWith('file:') ? fileURLToPath(entry) : entry))]
  const own = loaded.filter((path) => path.startsWith(ROOT) && !path.includes('/node_modules/')).map((path) => path.slice(ROOT.length))
  assert.ok(own.includes('dist/lib/client/index.js'), `the probe imported the built client (${own.join(', ')})`)

  const serverPackages = [...new Set(loaded.flatMap((path) =>
    SERVER_PACKAGES.filter((name) => path.includes(`/node_modules/${name}${name.endsWith('/') ? '' : '/'}`))))]
  assert.deepEqual(serverPackages, [], 'server packages loaded by the client')
  const serverModules = own.filter((path) => !CLIENT_MODULES.some((allowed) => allowed.test(path)))
  assert.deepEqual(serverModules, [], 'server modules loaded by the client')
})
