import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { hydrateWorkflowReturnValue } from '@workflow/core/serialization'
import type { World, WorkflowRun } from '@workflow/world'
import { start } from 'workflow/api'
import { setWorld } from 'workflow/runtime'
import type { FixtureBuild } from '../fixtures/build.js'

// flow.js, step.js (flow.mjs, step.mjs of an ESM build), webhook.js, manifest.json; not the builder's *.debug.json.
const BUNDLE_FILE = /^(?:flow|step|webhook)\.m?js$|^manifest\.json$/

/** Places a build in `artifactDir/<id>/` as the deployments lane writes it: the files, nothing else. */
export async function deployBuild (artifactDir: string, deploymentId: string, build: FixtureBuild): Promise<string> {
  const dir = join(artifactDir, deploymentId)
  await mkdir(dir, { recursive: true })
  for (const name of await readdir(build.dir)) {
    if (BUNDLE_FILE.test(name)) await copyFile(join(build.dir, name), join(dir, name))
  }
  return dir
}

/** A deployment made of hand-written bundle sources (fault injection). */
export async function deploySources (artifactDir: string, deploymentId: string, files: Record<string, string>): Promise<string> {
  const dir = join(artifactDir, deploymentId)
  await mkdir(dir, { recursive: true })
  for (const [name, source] of Object.entries(files)) await writeFile(join(dir, name), source)
  return dir
}

/** The workflow id of an export of a fixture app (`workflow//./workflows/demo//<name>`). */
export function workflowId (build: FixtureBuild, name: string): string {
  for (const file of Object.values(build.manifest.workflows as Record<string, Record<string, { workflowId: string }>>)) {
    if (file[name] !== undefined) return file[name].workflowId
  }
  throw new Error(`the fixture build has no workflow ${name}`)
}

/** Starts a run exactly as the SDK's start() does, on `deploymentId`. Makes `world` the realm's World. */
export async function startRun (world: World, deploymentId: string, workflow: string, args: unknown[] = []): Promise<string> {
  setWorld(world)
  const run = await start({ workflowId: workflow } as never, args, { world, deploymentId })
  return run.runId
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled'])

/** Polls the run until it is completed, failed or cancelled (or `timeoutMs` passes). */
export async function waitForRun (world: Pick<World, 'runs'>, runId: string, timeoutMs = 60_000): Promise<WorkflowRun> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const run = await world.runs.get(runId)
    if (TERMINAL.has(run.status)) return run
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${run.status} after ${timeoutMs} ms`)
    await sleep(25)
  }
}

/** The run's return value, decoded as the SDK decodes it. */
export async function runOutput (world: Pick<World, 'runs'>, runId: string, timeoutMs?: number): Promise<unknown> {
  const run = await waitForRun(world, runId, timeoutMs)
  if (run.status !== 'completed') throw new Error(`run ${runId} ${run.status}: ${JSON.stringify(run.error)}`)
  return await hydrateWorkflowReturnValue(run.output, runId, undefined)
}

/** Waits until `check` returns a value other than undefined. */
export async function eventually<T> (check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await sleep(25)
  }
}
