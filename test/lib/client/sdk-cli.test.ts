import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createLocalWorld } from '@workflow/world-local'
import { createInProcessCompute } from '../../../lib/compute/index.js'
import { startNodeComputeWorkerServer } from '../../../server.js'
import { deployBuild, eventually, startRun, waitForRun, workflowId } from '../../compute/helper.js'
import { buildFixtureApp } from '../../fixtures/build.js'
import { tempDir } from '../../helper.js'

const run = promisify(execFile)
const REPO = fileURLToPath(new URL('../../../', import.meta.url))
const WF = join(REPO, 'node_modules', '@workflow', 'cli', 'bin', 'run.js')
const CLIENT = '@workflow-studio/compute-worker/client'
const WORLD_KEY = 'test-key-cli-world-proxy-00000000001'

interface CliAnswer { code: number, stdout: string, stderr: string }

/**
 * The SDK's own CLI (`wf`, @workflow/cli as pinned), unchanged, in a process of its own. It
 * runs in the repository, whose package.json names this package: that is how the SDK's
 * `require(WORKFLOW_TARGET_WORLD)` (made from the working directory) finds
 * `@workflow-studio/compute-worker/client`, through the `exports` of the built package.
 */
async function wf (env: Record<string, string>, args: string[]): Promise<CliAnswer> {
  try {
    const { stdout, stderr } = await run(process.execPath, [WF, ...args], {
      cwd: REPO,
      // No update check (it would ask the npm registry), no colours, no CI detection from the parent.
      env: { PATH: process.env.PATH, HOME: env.HOME, NO_COLOR: '1', WORKFLOW_NO_UPDATE_CHECK: '1', ...env },
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code?: number, stdout?: string, stderr?: string }
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' }
  }
}

/** What a user reads: stdout, and stderr without the debug lines that name the backend. */
function shown (answer: CliAnswer): CliAnswer {
  return { ...answer, stderr: answer.stderr.split('\n').filter((line) => !line.startsWith('[Debug]')).join('\n') }
}

test('the SDK\'s CLI, unchanged, on the worker\'s remote World answers every command as on world-local directly', async (t) => {
  // The self-reference the SDK's require() relies on; the published client is the built one.
  const client = createRequire(join(REPO, 'index.js')).resolve(CLIENT)
  assert.equal(client, join(REPO, 'dist', 'lib', 'client', 'index.js'))
  assert.ok(existsSync(client), `${client} is missing: run npm run build (npm test does it first)`)

  const dir = await tempDir(t)
  const build = await buildFixtureApp()
  const world = createLocalWorld({ dataDir: join(dir, 'world') })
  const worker = await startNodeComputeWorkerServer({
    world,
    compute: createInProcessCompute(),
    sqlitePath: join(dir, 'worker.db'),
    artifactDir: join(dir, 'artifacts'),
    seedApiKeys: [{ key: WORLD_KEY, scopes: ['world:proxy'], name: 'cli', rateLimitPerMinute: 100_000 }],
    port: 0
  })
  t.after(() => worker.close())
  await deployBuild(join(dir, 'artifacts'), 'dpl_cli', build)

  // World-local, read from the files the worker writes; the remote World, through the internal lane.
  const home = await tempDir(t)
  const local = { HOME: home, WORKFLOW_TARGET_WORLD: 'local', WORKFLOW_LOCAL_DATA_DIR: join(dir, 'world'), WORKFLOW_LOCAL_BASE_URL: worker.url }
  const remote = { HOME: home, WORKFLOW_TARGET_WORLD: CLIENT, COMPUTE_WORKER_URL: worker.url, COMPUTE_WORKER_API_KEY: WORLD_KEY }

  const id = (name: string) => workflowId(build, name)
  const started = async (name: string, args: unknown[]) => await startRun(world, 'dpl_cli', id(name), args)
  const runs = {
    greet: await started('greet', ['cli']),
    sum: await started('sum', [20, 22]),
    sleepy: await started('sleepy', [200]),
    streamer: await started('streamer', [['alpha', 'beta']]),
    fatal: await started('fatal', ['nope']),
    approval: await started('approval', ['cli-1'])
  }
  for (const runId of [runs.greet, runs.sum, runs.sleepy, runs.streamer, runs.fatal]) await waitForRun(world, runId)
  const hook = await eventually(async () => (await world.hooks.list({ runId: runs.approval })).data[0])
  const [step] = (await world.steps.list({ runId: runs.sum })).data
  const [stream] = await world.listStreamsByRunId(runs.streamer)

  const same = async (args: string[]): Promise<CliAnswer> => {
    const [expected, actual] = await Promise.all([wf(local, args), wf(remote, args)])
    assert.deepStrictEqual(shown(actual), shown(expected), `wf ${args.join(' ')}`)
    return expected
  }
  const json = (answer: CliAnswer) => JSON.parse(answer.stdout)

  // Every `wf inspect` resource, with its flags (each CLI process costs about a second of CPU:
  // tables and --json read the World alike, so each flag is checked in one of the two forms).
  assert.equal(json(await same(['inspect', 'runs', '--json'])).data.length, 6)
  await same(['inspect', 'runs'])
  await same(['inspect', 'runs', '--withData', '--decrypt', '--json'])
  await same(['inspect', 'runs', '--status', 'failed', '--json'])
  await same(['inspect', 'runs', '--workflowName', id('greet'), '--sort', 'asc', '--limit', '3'])
  const firstPage = json(await same(['inspect', 'runs', '--limit', '2', '--json']))
  assert.equal(firstPage.hasMore, true)
  assert.equal(json(await same(['inspect', 'runs', '--limit', '2', '--cursor', firstPage.cursor, '--json'])).data.length, 2)
  await same(['inspect', 'run', runs.greet])
  assert.equal(json(await same(['inspect', 'run', runs.fatal, '--json'])).status, 'failed')
  assert.notEqual((await same(['inspect', 'run', 'wrun_01J00000000000000000000000'])).code, 0)
  await same(['inspect', 'steps', '--runId', runs.sum])
  await same(['inspect', 'steps', '--runId', runs.sum, '--withData', '--sort', 'asc', '--limit', '1', '--json'])
  await same(['inspect', 'step', step.stepId, '--runId', runs.sum])
  await same(['inspect', 'step', 'step_01J00000000000000000000000', '--runId', runs.sum])
  await same(['inspect', 'events', '--runId', runs.sleepy])
  await same(['inspect', 'events', '--runId', runs.sum, '--stepId', step.stepId, '--withData', '--sort', 'asc', '--limit', '3', '--json'])
  await same(['inspect', 'streams', '--runId', runs.streamer, '--json'])
  assert.deepEqual((await same(['inspect', 'stream', stream, '--json'])).stdout.trim().split('\n').map((line) => JSON.parse(line)), ['alpha', 'beta'])
  await same(['inspect', 'hooks'])
  await same(['inspect', 'hooks', '--runId', runs.approval, '--withData', '--json'])
  await same(['inspect', 'hook', hook.hookId])
  assert.equal(json(await same(['inspect', 'sleeps', '--runId', runs.sleepy, '--json'])).length, 1)

  // The commands that act through a World.
  const health = async (env: Record<string, string>) => (({ results, allHealthy }) => ({
    allHealthy, results: results.map(({ latencyMs: _latencyMs, ...result }: { latencyMs: number }) => result)
  }))(json(await wf(env, ['health', '--json'])))
  const [locally, remotely] = await Promise.all([health(local), health(remote)])
  assert.deepEqual(remotely, locally)
  assert.equal(remotely.allHealthy, true)

  const cancelled = await Promise.all([local, remote].map(async (env, i) => {
    const runId = await started('approval', [`cli-cancel-${i}`])
    const answer = await wf(env, ['cancel', runId])
    assert.equal((await waitForRun(world, runId)).status, 'cancelled')
    return shown({ ...answer, stdout: answer.stdout.replaceAll(runId, '<run>') })
  }))
  assert.deepStrictEqual(cancelled[1], cancelled[0])
  assert.match(cancelled[0].stdout, /Cancelled run <run>/)
  await same(['cancel', '--status', 'running', '--workflowName', id('greet'), '-y'])

  // `wf start <run id>` starts that run's workflow again, on its deployment, through the World's queue.
  const restarted = await Promise.all([local, remote].map(async (env) => {
    const answer = await wf(env, ['start', runs.greet, '"again"', '--json'])
    const { runId } = json(answer)
    assert.equal((await waitForRun(world, runId)).status, 'completed', answer.stderr)
    return { ...answer, stdout: answer.stdout.replaceAll(runId, '<run>'), stderr: '' }
  }))
  assert.deepStrictEqual(restarted[1], restarted[0])
})
