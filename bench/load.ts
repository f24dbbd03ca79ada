import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { World } from '@workflow/world'
import autocannon from 'autocannon'
import { benchWorld } from './world.js'

export interface LoadResult {
  label: string
  requestsPerSecond: number
  latencyP50Ms: number
  latencyP99Ms: number
  non2xx: number
  errors: number
  /**
   * CPU time the serving process spent per request (user + system), when it is a target of its
   * own: less sensitive to other load on the machine than req/s.
   */
  cpuMicrosPerRequest?: number
  /** Over the rounds of a comparison: the lowest and highest req/s (the figure is their median). */
  minRequestsPerSecond?: number
  maxRequestsPerSecond?: number
}

export interface LoadOptions {
  label: string
  url: string
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  connections?: number
  durationSeconds?: number
  /** Per-request rewrites (e.g. a unique Idempotency-Key): autocannon's `requests` with `setupRequest`. */
  requests?: autocannon.Request[]
  /** The process serving `url`: its CPU time per request is reported. */
  target?: Target
}

/** What every benchmark takes on its command line; `--quick` is a smoke run (seconds, not figures). */
export interface BenchArgs {
  quick: boolean
  durationSeconds: number
  rounds: number
  connections: number
  /** Each target runs this long, unmeasured, before the rounds (JIT, caches, connection pools). */
  warmupSeconds: number
}

export function benchArgs (defaults: { seconds?: number, rounds?: number, connections?: number } = {}): BenchArgs {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      seconds: { type: 'string' },
      rounds: { type: 'string' },
      connections: { type: 'string' }
    },
    strict: false
  })
  const quick = values.quick === true
  const pick = (value: unknown, normal: number, fast: number) => typeof value === 'string' ? Number(value) : quick ? fast : normal
  return {
    quick,
    durationSeconds: pick(values.seconds, defaults.seconds ?? 5, 1),
    rounds: pick(values.rounds, defaults.rounds ?? 3, 1),
    connections: pick(values.connections, defaults.connections ?? 10, 10),
    warmupSeconds: quick ? 0 : 2
  }
}

/** One autocannon run, reduced to the figures the benchmarks report. */
export async function load (options: LoadOptions): Promise<LoadResult> {
  const cpuBefore = options.target?.cpuMicros()
  const result = await autocannon({
    url: options.url,
    method: options.method ?? 'GET',
    headers: options.headers,
    body: options.body,
    connections: options.connections ?? 10,
    duration: options.durationSeconds ?? 5,
    requests: options.requests
  })
  const cpuAfter = options.target?.cpuMicros()
  return {
    label: options.label,
    requestsPerSecond: Math.round(result.requests.average),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    ...(cpuBefore !== undefined && cpuAfter !== undefined && result.requests.total > 0
      ? { cpuMicrosPerRequest: Math.round((cpuAfter - cpuBefore) / result.requests.total) }
      : {})
  }
}

/**
 * `work` run by `concurrency` loops for `durationSeconds`, in this process: the baseline of work
 * that is not HTTP (the same World calls a route makes), reported like an autocannon run.
 */
export async function loop (label: string, work: () => Promise<unknown>, options: { concurrency: number, durationSeconds: number }): Promise<LoadResult> {
  const deadline = performance.now() + options.durationSeconds * 1000
  const cpuBefore = process.cpuUsage()
  const latencies: number[] = []
  let errors = 0
  await Promise.all(Array.from({ length: options.concurrency }, async () => {
    while (performance.now() < deadline) {
      const started = performance.now()
      try {
        await work()
        latencies.push(performance.now() - started)
      } catch {
        errors++
      }
    }
  }))
  const cpu = process.cpuUsage(cpuBefore)
  latencies.sort((a, b) => a - b)
  const at = (q: number) => Number((latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0).toFixed(2))
  return {
    label,
    requestsPerSecond: Math.round(latencies.length / options.durationSeconds),
    latencyP50Ms: at(0.5),
    latencyP99Ms: at(0.99),
    non2xx: 0,
    errors,
    ...(latencies.length > 0 ? { cpuMicrosPerRequest: Math.round((cpu.user + cpu.system) / latencies.length) } : {})
  }
}

function median (results: LoadResult[]): LoadResult {
  const sorted = [...results].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)
  const cpu = results.map((result) => result.cpuMicrosPerRequest).filter((value) => value !== undefined).sort((a, b) => a - b)
  return {
    ...sorted[Math.floor(sorted.length / 2)],
    cpuMicrosPerRequest: cpu[Math.floor(cpu.length / 2)],
    non2xx: results.reduce((sum, result) => sum + result.non2xx, 0),
    errors: results.reduce((sum, result) => sum + result.errors, 0),
    minRequestsPerSecond: sorted[0].requestsPerSecond,
    maxRequestsPerSecond: sorted[sorted.length - 1].requestsPerSecond
  }
}

export interface Comparison {
  baseline: LoadResult
  subjects: LoadResult[]
  /** Each subject's req/s over the baseline's, in the order of `subjects`. */
  ratios: number[]
}

/**
 * Alternates the baseline and each subject `rounds` times (so drift on a shared machine hits them
 * all) and reports the median of each, its spread, and each subject's ratio to the baseline.
 * Each run is called with the warm-up duration first (when there is one), then without.
 */
export async function compareMany (
  baseline: (durationSeconds?: number) => Promise<LoadResult>,
  subjects: Array<(durationSeconds?: number) => Promise<LoadResult>>,
  rounds = 3,
  warmupSeconds = 0
): Promise<Comparison> {
  if (warmupSeconds > 0) {
    for (const run of [baseline, ...subjects]) await run(warmupSeconds)
  }
  const baselines: LoadResult[] = []
  const runs: LoadResult[][] = subjects.map(() => [])
  for (let i = 0; i < rounds; i++) {
    baselines.push(await baseline())
    for (const [index, subject] of subjects.entries()) runs[index].push(await subject())
  }
  const base = median(baselines)
  const medians = runs.map(median)
  return { baseline: base, subjects: medians, ratios: medians.map((result) => ratio(result.requestsPerSecond, base.requestsPerSecond)) }
}

export async function compare (
  subject: (durationSeconds?: number) => Promise<LoadResult>,
  baseline: (durationSeconds?: number) => Promise<LoadResult>,
  rounds = 3,
  warmupSeconds = 0
): Promise<{ subject: LoadResult, baseline: LoadResult, ratio: number }> {
  const { baseline: base, subjects: [result], ratios: [value] } = await compareMany(baseline, [subject], rounds, warmupSeconds)
  return { subject: result, baseline: base, ratio: value }
}

export function ratio (value: number, baseline: number): number {
  return Number((value / baseline).toFixed(3))
}

export function printTable (rows: LoadResult[]): void {
  console.table(rows.map((row) => ({
    run: row.label,
    'req/s': row.requestsPerSecond,
    'req/s min–max': row.minRequestsPerSecond === undefined ? '' : `${row.minRequestsPerSecond}–${row.maxRequestsPerSecond}`,
    'p50 ms': row.latencyP50Ms,
    'p99 ms': row.latencyP99Ms,
    'CPU µs/req': row.cpuMicrosPerRequest ?? '',
    non2xx: row.non2xx,
    errors: row.errors
  })))
}

/** Prints the comparison and its ratios; exits non-zero afterwards if any answer was not a 2xx. */
export function report (title: string, comparison: Comparison): void {
  console.log(`\n## ${title}`)
  printTable([comparison.baseline, ...comparison.subjects])
  const baseCpu = comparison.baseline.cpuMicrosPerRequest
  for (const [index, subject] of comparison.subjects.entries()) {
    const cpu = subject.cpuMicrosPerRequest !== undefined && baseCpu !== undefined
      ? `; CPU per request ${ratio(subject.cpuMicrosPerRequest, baseCpu)}x`
      : ''
    console.log(`ratio ${subject.label} / ${comparison.baseline.label}: ${comparison.ratios[index]} (req/s)${cpu}`)
  }
  const failed = [comparison.baseline, ...comparison.subjects].filter((result) => result.non2xx > 0 || result.errors > 0)
  if (failed.length > 0) {
    console.error(`error: non-2xx answers or errors in ${failed.map((result) => result.label).join(', ')}`)
    process.exitCode = 1
  }
}

/** The machine and its load, printed with every figure (the machine is shared). */
export function machine (): string {
  const [one, five] = loadavg()
  return `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.versions.node}, load average ${one.toFixed(2)} (1 min) ${five.toFixed(2)} (5 min)`
}

export interface Target {
  url: string
  child: ChildProcess
  /** Whatever else the target printed on its first line (keys, ids). */
  info: Record<string, unknown>
  /** User + system CPU time of the process so far (Linux /proc; undefined elsewhere). */
  cpuMicros (): number | undefined
  stop (): Promise<void>
}

/**
 * Starts `bench/targets/<name>.ts` in a process of its own, so the server and autocannon do not
 * share an event loop (on 2 cores: one each). The target prints one JSON line `{ url, … }`.
 * `execArgv` goes to its node (e.g. `--cpu-prof` to profile the worker under load).
 */
export async function startTarget (name: string, env: Record<string, string> = {}, execArgv: string[] = []): Promise<Target> {
  const child = spawn(process.execPath, [...execArgv, '--import', 'tsx', join(import.meta.dirname, 'targets', `${name}.ts`)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const info = await new Promise<Record<string, unknown>>((resolve, reject) => {
    let buffered = ''
    child.once('exit', (code) => reject(new Error(`bench target ${name} exited with ${code} before it listened`)))
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      const newline = buffered.indexOf('\n')
      if (newline >= 0) resolve(JSON.parse(buffered.slice(0, newline)))
    })
  })
  child.removeAllListeners('exit')
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    url: info.url as string,
    child,
    info,
    cpuMicros: () => processCpuMicros(child.pid),
    stop: async () => {
      child.kill('SIGTERM')
      await exited
    }
  }
}

export interface BenchSession {
  args: BenchArgs
  /** The bare Fastify hello-world, in a process of its own. */
  hello: Target
  /** The worker, in a process of its own: `info.key` has every scope, a deployment is active. */
  worker: Target
  /** A World of this process, for the baselines that call it directly. */
  world: World
  /** `Authorization` and JSON content type with the worker's key. */
  headers: Record<string, string>
  /** Duration (the given one, a warm-up's) and connections of an autocannon run. */
  timing: (durationSeconds?: number) => { durationSeconds: number, connections: number }
}

/**
 * What every benchmark starts from (the machine and its load printed before and after), torn
 * down afterwards whatever happens.
 */
export async function benchSession (run: (session: BenchSession) => Promise<void>): Promise<void> {
  const args = benchArgs()
  console.log(`machine: ${machine()}`)
  const dir = await mkdtemp(join(tmpdir(), 'cw-bench-'))
  const world = benchWorld(join(dir, 'world'))
  await world.start?.()
  const hello = await startTarget('hello')
  const worker = await startTarget('worker')
  try {
    const headers = { authorization: `Bearer ${worker.info.key as string}`, 'content-type': 'application/json' }
    const timing = (durationSeconds = args.durationSeconds) => ({ durationSeconds, connections: args.connections })
    await run({ args, hello, worker, world, headers, timing })
  } finally {
    await worker.stop()
    await hello.stop()
    await world.close?.()
    await rm(dir, { recursive: true, force: true })
  }
  console.log(`machine after: ${machine()}`)
}

const TICKS_PER_SECOND = 100 // USER_HZ: what /proc reports utime and stime in on Linux

function processCpuMicros (pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    // Fields after the parenthesized command name: state is field 3, utime 14, stime 15.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(fields[11]) + Number(fields[12])) * (1_000_000 / TICKS_PER_SECOND)
  } catch {
    return undefined
  }
}
