import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import type { World } from '@workflow/world'

type QueueRoute = (request: Request) => Promise<Response>

/**
 * Test-only stand-in for the in-process executor (built separately): runs a fixture build's
 * flow.js/step.js in this process on `world`, through world-local's direct queue handlers.
 * The bundles reach the World through the SDK's global cache, so it is pointed at `world`.
 */
export async function executeBuildOn (t: TestContext, world: World, buildDir: string): Promise<void> {
  const globals = globalThis as Record<symbol, unknown>
  globals[Symbol.for('@workflow/world//cache')] = world
  globals[Symbol.for('@workflow/world//stubbedCache')] = world
  const dir = await mkdtemp(join(tmpdir(), 'cw-exec-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  // The repository is ESM; the bundles are CommonJS.
  await writeFile(join(dir, 'package.json'), '{"type":"commonjs"}')
  for (const file of ['flow.js', 'step.js']) await copyFile(join(buildDir, file), join(dir, file))
  const load = createRequire(join(dir, 'package.json'))
  const flow = load(join(dir, 'flow.js')) as { POST: QueueRoute }
  const step = load(join(dir, 'step.js')) as { POST: QueueRoute }
  const local = world as World & { registerHandler (prefix: string, handler: QueueRoute): void }
  local.registerHandler('__wkf_workflow_', flow.POST)
  local.registerHandler('__wkf_step_', step.POST)
}

/** Registers queue handlers that accept and drop every message (for tests that only create runs). */
export function dropQueueDeliveries (world: World): void {
  const local = world as World & { registerHandler (prefix: string, handler: QueueRoute): void }
  const drop: QueueRoute = async () => Response.json({ ok: true })
  local.registerHandler('__wkf_workflow_', drop)
  local.registerHandler('__wkf_step_', drop)
}
