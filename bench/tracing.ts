/**
 * What metrics and tracing cost, and that tracing off costs nothing: the same workload on the
 * worker without any of it (the commit before it, `--baseline`), and on this one with metrics off
 * and tracing off, as shipped (metrics on, tracing off), and traced (every span made, sent across
 * the thread boundary and exported to an exporter that drops them).
 *
 *   node --import tsx bench/tracing.ts [--runs 200] [--repeat 5] [--baseline <checkout>]
 *
 * Workload: `--runs` greet runs triggered at once over HTTP (POST /v1/runs, a listening server),
 * executed by the in-process executor (one deployment thread), timed until all completed, after a
 * warm-up run. Each measurement runs in a fresh process; the modes alternate, --repeat rounds.
 * Reported: medians of wall time and of the process's CPU time (user + system, the threads'
 * included), and each mode's ratio to the baseline. Without --baseline, a git worktree of
 * `git merge-base HEAD main` is made in a temp dir (sharing this node_modules) and removed after.
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import type { World } from '@workflow/world'
import { createLocalWorld } from '@workflow/world-local'
import { buildFixtureApp } from '../test/fixtures/build.js'
import { machine } from './load.js'

type Mode = 'baseline' | 'off' | 'metrics' | 'traced'
const MODES: Mode[] = ['baseline', 'off', 'metrics', 'traced']
const HERE = fileURLToPath(new URL('..', import.meta.url))
const KEY = 'bench-key-tracing-000000000000000001'

const ARGS = {
  mode: { type: 'string' },
  root: { type: 'string' },
  runs: { type: 'string', default: '200' },
  repeat: { type: 'string', default: '5' },
  baseline: { type: 'string' }
} as const

function completions (world: World): (runIds: string[]) => Promise<void> {
  const waiting = new Map<string, () => void>()
  const finished = new Set<string>()
  const create = world.events.create.bind(world.events) as (...args: unknown[]) => Promise<unknown>
  world.events.create = (async (...args: unknown[]) => {
    const result = await create(...args)
    const [runId, event] = args as [string, { eventType: string }]
    if (event.eventType === 'run_completed') {
      finished.add(runId)
      waiting.get(runId)?.()
    } else if (event.eventType === 'run_failed') {
      console.error(`run ${runId} failed`)
      process.exit(1)
    }
    return result
  }) as World['events']['create']
  return async (runIds) => {
    await Promise.all(runIds.map(async (runId) => {
      if (!finished.has(runId)) await new Promise<void>((resolve) => waiting.set(runId, resolve))
    }))
  }
}

/** One measurement, against the worker of the checkout at `root`: prints `{ ms, cpuMs }`. */
async function measure (mode: Mode, root: string, count: number): Promise<void> {
  const from = (path: string) => import(pathToFileURL(join(root, path)).href)
  if (mode === 'traced') {
    const { startWorkerTracing } = await from('lib/observability/tracing-sdk.ts')
    const dropping = { export: (_spans: unknown, done: (result: { code: number }) => void) => done({ code: 0 }), shutdown: async () => {} }
    startWorkerTracing({ exporters: [dropping] })
  }
  const { buildComputeWorkerApp } = await from('server.ts')
  const { createInProcessCompute } = await from('lib/compute/index.ts')
  const build = await buildFixtureApp('A')
  const dir = await mkdtemp(join(tmpdir(), 'cw-bench-tracing-'))
  const world = createLocalWorld({ dataDir: join(dir, 'world') })
  const waitAll = completions(world)
  const app = buildComputeWorkerApp({
    world,
    compute: createInProcessCompute(),
    sqlitePath: join(dir, 'worker.db'),
    artifactDir: join(dir, 'artifacts'),
    seedApiKeys: [{ key: KEY, scopes: ['trigger:write', 'deploy:write'], rateLimitPerMinute: 1_000_000_000 }],
    ...(mode === 'off' ? { metrics: false } : {})
  })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }
  const files: Record<string, string> = {}
  for (const name of ['flow.js', 'step.js']) files[name] = (await readFile(join(build.dir, name))).toString('base64')
  const deployed = await fetch(`${url}/v1/deployments`, { method: 'POST', headers, body: JSON.stringify({ manifest: build.manifest, files }) })
  const { id } = await deployed.json() as { id: string }
  await fetch(`${url}/v1/deployments/${id}/activate`, { method: 'POST', headers: { authorization: headers.authorization } })
  let n = 0
  const trigger = async (): Promise<string> => {
    const res = await fetch(`${url}/v1/runs`, {
      method: 'POST',
      headers: { ...headers, 'idempotency-key': `k-${n++}` },
      body: JSON.stringify({ workflowName: 'greet', input: ['bench'] })
    })
    if (res.status !== 202) throw new Error(`trigger answered ${res.status}: ${await res.text()}`)
    return (await res.json() as { runId: string }).runId
  }
  await waitAll([await trigger()])
  const cpu = process.cpuUsage()
  const started = performance.now()
  const runIds = await Promise.all(Array.from({ length: count }, trigger))
  await waitAll(runIds)
  const ms = performance.now() - started
  const used = process.cpuUsage(cpu)
  await app.close()
  await rm(dir, { recursive: true, force: true })
  console.log(JSON.stringify({ ms, cpuMs: (used.user + used.system) / 1000 }))
}

async function child (mode: Mode, root: string, count: number): Promise<{ ms: number, cpuMs: number }> {
  const proc = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--mode', mode, '--root', root, '--runs', String(count)], {
    stdio: ['ignore', 'pipe', 'inherit']
  })
  let out = ''
  proc.stdout.on('data', (chunk) => { out += chunk })
  const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve))
  const last = out.trim().split('\n').at(-1) ?? ''
  if (code !== 0 || !last.startsWith('{')) throw new Error(`${mode} failed (exit ${code}):\n${out}`)
  return JSON.parse(last) as { ms: number, cpuMs: number }
}

async function baselineCheckout (): Promise<{ root: string, remove: () => Promise<void> }> {
  const base = execFileSync('git', ['merge-base', 'HEAD', 'main'], { cwd: HERE, encoding: 'utf8' }).trim()
  const parent = await mkdtemp(join(tmpdir(), 'cw-bench-baseline-'))
  const root = join(parent, 'checkout')
  execFileSync('git', ['worktree', 'add', '--detach', root, base], { cwd: HERE, stdio: 'ignore' })
  await symlink(join(HERE, 'node_modules'), join(root, 'node_modules'))
  console.log(`baseline: ${base.slice(0, 10)} (git merge-base HEAD main)`)
  return {
    root,
    remove: async () => {
      execFileSync('git', ['worktree', 'remove', '--force', root], { cwd: HERE, stdio: 'ignore' })
      await rm(parent, { recursive: true, force: true })
    }
  }
}

const median = (values: number[]): number => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]

async function main (): Promise<void> {
  const { values } = parseArgs({ options: ARGS })
  const count = Number(values.runs)
  if (values.mode !== undefined) return await measure(values.mode as Mode, values.root ?? HERE, count)
  await buildFixtureApp('A')
  const checkout = values.baseline === undefined ? await baselineCheckout() : { root: values.baseline, remove: async () => {} }
  try {
    const results = new Map<Mode, Array<{ ms: number, cpuMs: number }>>(MODES.map((mode) => [mode, []]))
    const repeat = Number(values.repeat)
    for (let round = 0; round < repeat; round++) {
      for (const mode of MODES) results.get(mode)!.push(await child(mode, mode === 'baseline' ? checkout.root : HERE, count))
    }
    const base = results.get('baseline')!
    const baseMs = median(base.map((r) => r.ms))
    const baseCpu = median(base.map((r) => r.cpuMs))
    console.log(`${count} greet runs triggered over HTTP at once, until all completed; median of ${repeat}, fresh process each\nmachine: ${machine()}`)
    console.log('mode       wall ms  (min–max)        CPU ms   wall/baseline   CPU/baseline')
    for (const mode of MODES) {
      const rows = results.get(mode)!
      const ms = rows.map((r) => r.ms)
      const cpu = median(rows.map((r) => r.cpuMs))
      console.log(`${mode.padEnd(9)} ${median(ms).toFixed(0).padStart(8)}  (${Math.min(...ms).toFixed(0)}–${Math.max(...ms).toFixed(0)})`.padEnd(34) +
        `${cpu.toFixed(0).padStart(8)} ${(median(ms) / baseMs).toFixed(3).padStart(15)} ${(cpu / baseCpu).toFixed(3).padStart(14)}`)
    }
    for (const mode of MODES.slice(1)) {
      const rows = results.get(mode)!
      console.log(`ratio ${mode} / baseline: ${(median(rows.map((r) => r.cpuMs)) / baseCpu).toFixed(3)} CPU, ${(median(rows.map((r) => r.ms)) / baseMs).toFixed(3)} wall`)
    }
  } finally {
    await checkout.remove()
  }
}

await main()
