/**
 * Every benchmark, one after the other, each in a process of its own: `npm run bench` (which
 * builds first: the standalone start-up and the remote World run dist/). `--quick` is a smoke
 * run of a few seconds each: it shows the benchmarks work, its figures mean nothing.
 * Other arguments (`--seconds`, `--rounds`, `--connections`) go to the autocannon benchmarks
 * (read, trigger, health, store-path: SQLite only unless a PostgreSQL URL is set); remote-world and compute take their own defaults.
 * Prints the ratio lines of all of them at the end; exits 1 if any benchmark failed.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { machine } from './load.js'

const args = process.argv.slice(2)
const quick = args.includes('--quick')

/** Each benchmark and the arguments it gets from ours. */
const BENCHMARKS: Array<{ file: string, args: string[] }> = [
  { file: 'read.ts', args },
  { file: 'trigger.ts', args },
  { file: 'health.ts', args },
  { file: 'store-path.ts', args },
  { file: 'remote-world.ts', args: quick ? ['--quick'] : [] },
  { file: 'compute.ts', args: quick ? ['--runs', '20', '--repeat', '1'] : [] },
  { file: 'tracing.ts', args: quick ? ['--runs', '20', '--repeat', '1'] : [] }
]

async function run (file: string, benchArgs: string[]): Promise<{ code: number | null, ratios: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, file), ...benchArgs], { stdio: ['ignore', 'pipe', 'inherit'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk)
    output += chunk.toString()
  })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  return { code, ratios: output.split('\n').filter((line) => line.startsWith('ratio ')) }
}

console.log(`# compute-worker benchmarks${quick ? ' (--quick: a smoke run, not figures)' : ''}\nmachine: ${machine()}`)
const started = performance.now()
const summary: string[] = []
const failed: string[] = []
for (const { file, args: benchArgs } of BENCHMARKS) {
  console.log(`\n# ${file}`)
  const { code, ratios } = await run(file, benchArgs)
  if (code !== 0) failed.push(`${file} (exit ${code})`)
  summary.push(...ratios.map((line) => `${file}: ${line}`))
}
console.log(`\n# summary (${((performance.now() - started) / 1000).toFixed(0)} s)\nmachine: ${machine()}`)
for (const line of summary) console.log(line)
if (failed.length > 0) {
  console.error(`failed: ${failed.join(', ')}`)
  process.exitCode = 1
}
