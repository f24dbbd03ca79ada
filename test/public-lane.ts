import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { buildFixtureApp, type FixtureBuild } from './fixtures/build.js'
import { KEYS, bearer } from './helper.js'

/** The bundles `compute-worker deploy` uploads, base64, from a fixture build. */
export async function fixtureFiles (build: FixtureBuild): Promise<Record<string, string>> {
  const files: Record<string, string> = {}
  for (const name of ['flow.js', 'step.js', 'webhook.js']) files[name] = (await readFile(join(build.dir, name))).toString('base64')
  return files
}

/** Uploads the fixture build (A unless told) and, by default, activates it. */
export async function deployFixture (app: FastifyInstance, options: { variant?: string, activate?: boolean, files?: boolean } = {}): Promise<{ id: string, build: FixtureBuild }> {
  const build = await buildFixtureApp(options.variant)
  const res = await app.inject({
    method: 'POST',
    url: '/v1/deployments',
    headers: bearer(KEYS.admin),
    payload: { manifest: build.manifest, ...(options.files === false ? {} : { files: await fixtureFiles(build) }) }
  })
  if (res.statusCode !== 201) throw new Error(`deploy failed: ${res.statusCode} ${res.body}`)
  const { id } = res.json()
  if (options.activate !== false) {
    const activated = await app.inject({ method: 'POST', url: `/v1/deployments/${id}/activate`, headers: bearer(KEYS.admin) })
    if (activated.statusCode !== 200) throw new Error(`activate failed: ${activated.body}`)
  }
  return { id, build }
}

export async function triggerRun (app: FastifyInstance, body: Record<string, unknown>, key = `key-${Math.random()}`, apiKey: string = KEYS.triggerWrite) {
  return await app.inject({ method: 'POST', url: '/v1/runs', headers: { ...bearer(apiKey), 'idempotency-key': key }, payload: body })
}

/** Polls GET /v1/runs/:id until `done(run)`; gives up after `timeoutMs` with the last run seen. */
export async function waitForRun (app: FastifyInstance, runId: string, done: (run: any) => boolean, timeoutMs = 60_000): Promise<any> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const res = await app.inject({ method: 'GET', url: `/v1/runs/${runId}`, headers: bearer(KEYS.runsRead) })
    const run = res.json()
    if (done(run)) return run
    if (Date.now() > deadline) throw new Error(`run ${runId} did not get there: ${res.body}`)
    await sleep(50)
  }
}
