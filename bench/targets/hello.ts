/**
 * The baseline: a bare Fastify hello-world (no plugins, no logger), GET / and a JSON POST /.
 * Prints `{ "url": … }` on its first line; SIGTERM closes it.
 */
import Fastify from 'fastify'

const app = Fastify()
app.get('/', async () => ({ hello: 'world' }))
app.post('/', async (_request, reply) => reply.code(202).send({ received: true }))
await app.listen({ port: 0, host: '127.0.0.1' })
console.log(JSON.stringify({ url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}` }))
process.once('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
