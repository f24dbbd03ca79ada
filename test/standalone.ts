import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { TestContext } from 'node:test'

export const BIN = fileURLToPath(new URL('../dist/bin/compute-worker.js', import.meta.url))

export interface StandaloneProcess {
  child: ChildProcess
  url: string
  lines: string[]
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

/**
 * Starts the built standalone server (`dist/bin/compute-worker.js`, as `npm start` and the
 * published bin run it) with `env` on a free port, and resolves once it listens.
 */
export async function startStandalone (t: TestContext, env: Record<string, string>, args: string[] = []): Promise<StandaloneProcess> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build (npm test does it first)`)
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const exited = once(child, 'exit').then(([code, signal]) => ({ code, signal })) as StandaloneProcess['exited']
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  const lines: string[] = []
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = ''
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString()
      const parts = buffered.split('\n')
      buffered = parts.pop() ?? ''
      for (const line of parts) {
        lines.push(line)
        const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line)
        if (match !== null) resolve(match[1])
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    exited.then(({ code, signal }) => reject(new Error(`exited (${code ?? signal}) before listening:\n${lines.join('\n')}${buffered}`)))
  })
  return { child, url, lines, exited }
}

/** Runs the bin to completion and returns its exit code and output. */
export async function runBin (env: Record<string, string>, args: string[] = []): Promise<{ code: number | null, output: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout.on('data', (chunk) => { output += chunk })
  child.stderr.on('data', (chunk) => { output += chunk })
  const [code] = await once(child, 'exit')
  return { code, output }
}
