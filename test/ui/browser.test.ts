import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join, resolve } from 'node:path'
import { test, type TestContext } from 'node:test'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { buildFixtureApp } from '../fixtures/build.js'
import { KEYS, SEED_KEYS, bearer, tempDir } from '../helper.js'
import { fixtureFiles } from '../public-lane.js'
import { startStandalone } from '../standalone.js'

// Debian's chromium (`apt-get install chromium`, as .ci/run does); nothing downloads a browser.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
// Without the networking switches Chromium stalls on a closed network (update checks, sync, QUIC).
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync']
/** `COMPUTE_WORKER_UI_SCREENSHOTS=docs/screenshots npm test`: the README's pictures, taken by these scenarios. */
const SCREENSHOTS = process.env.COMPUTE_WORKER_UI_SCREENSHOTS
const GITHUB_SECRET = 'github-secret-ui'
// A live region asks again every 2 s; a run of the fixture app takes a few seconds on a loaded machine.
const LIVE_MS = 60_000

const skip = existsSync(CHROMIUM) || process.env.CI === 'true'
  ? false
  : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`

interface Worker {
  url: string
  api (method: string, path: string, body?: unknown, key?: string): Promise<{ status: number, body: any }>
  trigger (workflowName: string, input: unknown[]): Promise<string>
  waitFor (runId: string, done: (run: any) => boolean): Promise<any>
}

async function startWorker (t: TestContext): Promise<Worker> {
  const dir = await tempDir(t, 'cw-ui-')
  const { url } = await startStandalone(t, {
    WORKFLOW_LOCAL_DATA_DIR: join(dir, 'world'),
    COMPUTE_WORKER_SQLITE_PATH: join(dir, 'worker.db'),
    COMPUTE_WORKER_ARTIFACT_DIR: join(dir, 'artifacts'),
    COMPUTE_WORKER_API_KEYS: JSON.stringify(SEED_KEYS),
    COMPUTE_WORKER_WEBHOOKS: JSON.stringify({ github: { scheme: 'github', secret: GITHUB_SECRET, trigger: { workflowName: 'greet' } } })
  })
  let sequence = 0
  const worker: Worker = {
    url,
    async api (method, path, body, key = KEYS.admin) {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { ...bearer(key), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), 'idempotency-key': `ui-${++sequence}` },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {})
      })
      return { status: res.status, body: await res.json() }
    },
    async trigger (workflowName, input) {
      const res = await worker.api('POST', '/v1/runs', { workflowName, input })
      assert.equal(res.status, 202, JSON.stringify(res.body))
      return res.body.runId
    },
    async waitFor (runId, done) {
      const deadline = Date.now() + LIVE_MS
      for (;;) {
        const run = (await worker.api('GET', `/v1/runs/${runId}`, undefined, KEYS.runsRead)).body
        if (done(run)) return run
        if (Date.now() > deadline) throw new Error(`run ${runId} never got there: ${JSON.stringify(run)}`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
  }
  return worker
}

async function deploy (worker: Worker, variant: string, activate: boolean, labels: Record<string, string>): Promise<string> {
  const build = await buildFixtureApp(variant)
  const res = await worker.api('POST', '/v1/deployments', { manifest: build.manifest, files: await fixtureFiles(build), labels })
  assert.equal(res.status, 201, JSON.stringify(res.body))
  if (activate) assert.equal((await worker.api('POST', `/v1/deployments/${res.body.id}/activate`)).status, 200)
  return res.body.id
}

async function launch (t: TestContext): Promise<Browser> {
  // Playwright gives each launch a fresh, temporary --user-data-dir of its own.
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true })
  t.after(() => browser.close())
  return browser
}

async function screenshot (page: Page, name: string): Promise<void> {
  if (SCREENSHOTS === undefined) return
  const dir = resolve(SCREENSHOTS)
  await mkdir(dir, { recursive: true })
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true })
}

/** A new browser context (its own cookies) signed in with `key` through the sign-in form. */
async function signedIn (browser: Browser, worker: Worker, key: string, options: { javaScriptEnabled?: boolean } = {}): Promise<{ context: BrowserContext, page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options })
  const page = await context.newPage()
  await page.goto(`${worker.url}/ui/`)
  assert.match(page.url(), /\/ui\/login/)
  await page.fill('#key', key)
  await page.click('form[action="/ui/login"] button')
  await page.waitForURL((url) => !url.pathname.endsWith('/login'))
  return { context, page }
}

async function statusOf (page: Page, selector: string): Promise<string | null> {
  return await page.locator(selector).first().getAttribute('data-status')
}

test('the dashboard in a real browser', { skip }, async (t) => {
  const worker = await startWorker(t)
  const active = await deploy(worker, 'A', true, { gitSha: '4f2c1ab' })
  const next = await deploy(worker, 'B', false, { gitSha: '9e07d3c' })
  const browser = await launch(t)
  // A finished run with steps, a retry and a sleep, and one with an output stream, for the pictures.
  const retried = await worker.trigger('retried', [2])
  const streamer = await worker.trigger('streamer', [['starting', 'charging card', 'done']])
  const webhookBody = JSON.stringify({ ref: 'refs/heads/main', after: '4f2c1ab' })
  await fetch(`${worker.url}/v1/webhooks/github`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': 'a1b2c3d4-push', 'x-hub-signature-256': 'sha256=' + createHmac('sha256', GITHUB_SECRET).update(webhookBody).digest('hex') },
    body: webhookBody
  })
  await Promise.all([retried, streamer].map(async (runId) => await worker.waitFor(runId, (run) => run.status === 'completed')))

  await t.test('a bad key is refused on the sign-in form', async () => {
    const context = await browser.newContext()
    t.after(() => context.close())
    const page = await context.newPage()
    await page.goto(`${worker.url}/ui/login`)
    await screenshot(page, 'sign-in')
    await page.fill('#key', 'cw_notAKey')
    await page.click('form[action="/ui/login"] button')
    await page.locator('p.error').waitFor()
    assert.match(await page.locator('p.error').innerText(), /The API key is not valid/)
    assert.match(page.url(), /\/ui\/login$/)
    assert.deepEqual((await context.cookies()).map((cookie) => cookie.name), ['cw_ui_login'], 'no session')
    assert.equal(await page.inputValue('#key'), '', 'the refused key is not put back into the form')
  })

  await t.test('keys of different scopes see what their scopes allow, and no more', async () => {
    const reader = await signedIn(browser, worker, KEYS.runsRead)
    t.after(() => reader.context.close())
    assert.deepEqual(await reader.page.locator('header nav a').allInnerTexts(), ['Runs', 'Worker'])
    await reader.page.goto(`${worker.url}/ui/runs/${retried}`)
    assert.equal(await reader.page.locator('form.cancel, form.resume').count(), 0)
    const session = (await reader.context.cookies()).find((cookie) => cookie.name === 'cw_ui_session')
    assert.ok(session !== undefined && session.httpOnly && session.sameSite === 'Strict', 'HttpOnly, SameSite=Strict')
    assert.equal(await reader.page.evaluate(() => document.cookie), '', 'no script of the page can read the session')
    // htmx keeps the page's own path in sessionStorage; nothing else is stored.
    const stored = await reader.page.evaluate(() => ({ local: { ...localStorage }, session: { ...sessionStorage } }))
    assert.deepEqual(stored, { local: {}, session: { 'htmx-current-path-for-history': `/ui/runs/${retried}` } }, 'no key or session in the page\'s storage')
    assert.equal((await reader.page.content()).includes(KEYS.runsRead), false)

    const deployer = await signedIn(browser, worker, KEYS.deployRead)
    t.after(() => deployer.context.close())
    assert.match(deployer.page.url(), /\/ui\/deployments$/)
    assert.deepEqual(await deployer.page.locator('header nav a').allInnerTexts(), ['Deployments', 'Worker'])
    assert.equal(await deployer.page.locator('form.activate').count(), 0, 'deploy:read sees no Activate')
    await deployer.page.goto(`${worker.url}/ui/runs`)
    assert.match(await deployer.page.locator('main').innerText(), /403\s+forbidden[\s\S]*lacks the scope runs:read/)
  })

  const { context, page } = await signedIn(browser, worker, KEYS.admin)
  t.after(() => context.close())

  await t.test('a run goes from pending to completed on the open pages, without a reload', async () => {
    await page.goto(`${worker.url}/ui/runs`)
    await page.evaluate(() => { (window as any).sameDocument = true })
    const runId = await worker.trigger('sleepy', [1500])
    const row = `tr[data-run-id="${runId}"]`
    await page.locator(row).waitFor({ timeout: LIVE_MS })
    assert.notEqual(await statusOf(page, row), 'completed', 'it shows up before it finished')
    await page.locator(`${row}[data-status="completed"]`).waitFor({ timeout: LIVE_MS })
    assert.equal(await page.evaluate(() => (window as any).sameDocument), true, 'the same document: no reload')
    await screenshot(page, 'runs')

    const running = await worker.trigger('sleepy', [2500])
    await page.goto(`${worker.url}/ui/runs/${running}`)
    await page.evaluate(() => { (window as any).sameDocument = true })
    assert.notEqual(await statusOf(page, '#run-live'), 'completed')
    await page.locator('#run-live[data-status="completed"]').waitFor({ timeout: LIVE_MS })
    assert.equal(await page.evaluate(() => (window as any).sameDocument), true)
    assert.match(await page.locator('section.value').last().innerText(), /slept 2500 ms, 3/)
    assert.deepEqual(await page.locator('table.spans tbody td:nth-child(2)').allInnerTexts(), ['step', 'sleep', 'step'])
    assert.equal(await page.locator('figure.timeline svg g.span').count(), 3, 'the timeline draws each step and the sleep')
    await screenshot(page, 'run')
  })

  await t.test('the output stream shows what the run wrote, live', async () => {
    await page.goto(`${worker.url}/ui/runs/${streamer}`)
    await page.locator('#stream-state', { hasText: 'closed after 3 chunks' }).waitFor({ timeout: LIVE_MS })
    assert.deepEqual(await page.locator('#chunks li').allInnerTexts(), ['"starting"', '"charging card"', '"done"'])
    const live = await worker.trigger('streamer', [['one', 'two']])
    await page.goto(`${worker.url}/ui/runs/${live}`)
    await page.locator('#chunks li', { hasText: '"two"' }).waitFor({ timeout: LIVE_MS })
  })

  await t.test('resume a waiting hook from the page and see the run finish', async () => {
    const runId = await worker.trigger('approval', ['order-42'])
    await page.goto(`${worker.url}/ui/runs/${runId}`)
    // The hook appears when the run reaches it: on this page, without a reload.
    await page.locator('form.resume textarea').waitFor({ timeout: LIVE_MS })
    await screenshot(page, 'run-waiting-hook')
    await page.fill('form.resume textarea', '{ "approved": true, "by": "ops@example.com" }')
    await page.click('form.resume button')
    await page.waitForURL(/done=resumed/)
    assert.match(await page.locator('.notice').innerText(), /Payload delivered/)
    await page.locator('#run-live[data-status="completed"]').waitFor({ timeout: LIVE_MS })
    const run = await worker.waitFor(runId, (candidate) => candidate.status === 'completed')
    assert.deepEqual(run.output, { orderId: 'order-42', approved: { approved: true, by: 'ops@example.com' } })
  })

  await t.test('cancel a run from the page', async () => {
    const runId = await worker.trigger('approval', ['order-43'])
    await page.goto(`${worker.url}/ui/runs/${runId}`)
    await page.click('form.cancel button')
    await page.waitForURL(/done=cancelled/)
    assert.equal(await statusOf(page, '#run-live'), 'cancelled')
    assert.equal(await page.locator('form.cancel').count(), 0)
    assert.equal((await worker.waitFor(runId, () => true)).status, 'cancelled')
  })

  await t.test('activate a deployment from the page', async () => {
    await page.goto(`${worker.url}/ui/deployments`)
    await screenshot(page, 'deployments')
    await page.click(`form[action="/ui/deployments/${next}/activate"] button`)
    await page.waitForURL(/done=activated/)
    assert.match(await page.locator('h1').innerText(), /active/)
    assert.equal((await worker.api('GET', '/v1/deployments/active')).body.id, next)
    await screenshot(page, 'deployment')
    await page.goto(`${worker.url}/ui/deployments`)
    assert.equal(await page.locator(`form[action="/ui/deployments/${active}/activate"]`).count(), 1, 'the previous one can be activated again')
  })

  await t.test('webhook deliveries, the audit log by correlation id, and the worker\'s threads', async () => {
    await page.goto(`${worker.url}/ui/webhooks`)
    assert.match(await page.locator('table.webhooks tbody').innerText(), /github\s+a1b2c3d4-push\s+accepted\s+202/)
    await screenshot(page, 'webhooks')
    await page.goto(`${worker.url}/ui/audit`)
    await screenshot(page, 'audit')
    await page.locator('table.audit tbody tr td:nth-child(7) a').first().click()
    assert.match(page.url(), /\/ui\/audit\?correlationId=/)
    assert.ok(await page.locator('table.audit tbody tr').count() >= 1)
    await page.goto(`${worker.url}/ui/worker`)
    assert.match(await page.locator('table.threads').innerText(), /answering|loading/)
    await screenshot(page, 'worker')
  })

  await t.test('a cross-site or tokenless form post is refused; the run goes on', async () => {
    const runId = await worker.trigger('approval', ['order-44'])
    await worker.waitFor(runId, (run) => run.status === 'running')
    const attacker = createServer((_request, response) => {
      response.setHeader('content-type', 'text/html')
      response.end(`<form id="f" method="post" action="${worker.url}/ui/runs/${runId}/cancel"><input name="_csrf" value="guess"></form>
        <script>document.getElementById('f').submit()</script>`)
    })
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve))
    t.after(() => new Promise<void>((resolve) => attacker.close(() => resolve())))
    const port = (attacker.address() as AddressInfo).port
    // localhost is another site than 127.0.0.1 (no cookie at all); another port of 127.0.0.1 is the same site.
    for (const origin of [`http://localhost:${port}`, `http://127.0.0.1:${port}`]) {
      const attacked = await context.newPage()
      const answer = attacked.waitForResponse((response) => response.url().endsWith('/cancel'))
      await attacked.goto(origin)
      assert.ok([401, 403].includes((await answer).status()), origin)
      await attacked.close()
    }
    assert.equal((await worker.api('GET', `/v1/runs/${runId}`)).body.status, 'running')
  })

  await t.test('with JavaScript off, every page still reads', async () => {
    const plain = await signedIn(browser, worker, KEYS.admin, { javaScriptEnabled: false })
    t.after(() => plain.context.close())
    await plain.page.goto(`${worker.url}/ui/runs`)
    assert.ok(await plain.page.locator('table.runs tbody tr[data-run-id]').count() >= 5)
    await plain.page.goto(`${worker.url}/ui/runs/${retried}`)
    assert.match(await plain.page.locator('table.spans').innerText(), /flakyStep\s+step[\s\S]*3 \(2 retries\)\s+completed/)
    assert.equal(await plain.page.locator('noscript a').count() + await plain.page.locator('a[href$="stream?format=text"]').count() > 0, true)
    const text = await plain.context.request.get(`${worker.url}/ui/runs/${streamer}/stream?format=text`)
    assert.equal(await text.text(), '[0] "starting"\n[1] "charging card"\n[2] "done"\n-- closed after 3 chunks\n')
    for (const path of ['/ui/deployments', '/ui/webhooks', '/ui/audit', '/ui/worker']) {
      await plain.page.goto(`${worker.url}${path}`)
      assert.equal(await plain.page.locator('main h1').count(), 1, path)
    }
  })

  await t.test('sign out ends the session', async () => {
    await page.goto(`${worker.url}/ui/runs`)
    await page.click('header form[action="/ui/logout"] button')
    await page.waitForURL(/\/ui\/login\?done=signed_out/)
    assert.match(await page.locator('.notice').innerText(), /Signed out/)
    await page.goto(`${worker.url}/ui/runs`)
    assert.match(page.url(), /\/ui\/login\?next=/)
  })
})
