import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { TestContext } from 'node:test'

const HOST = fileURLToPath(new URL('./fixtures/runtime-host.mjs', import.meta.url))
const REPO = fileURLToPath(new URL('..', import.meta.url))
const CLIENT_DIST = fileURLToPath(new URL('../dist/lib/client/index.js', import.meta.url))

export type HostMode = 'local' | 'remote' | 'env'

export interface RunOutcome {
  runId: string
  status: string
  value?: unknown
  error?: { name: string, message: string, cause?: string }
  streamed?: unknown[]
  events: string[]
  steps: Array<{ stepName: string, status: string, attempt: number }>
}

export interface RuntimeHost {
  /** Where the host serves /.well-known/workflow/v1/{flow,step}. */
  url: string
  child: ChildProcess
  configure (settings: { workerUrl?: string, apiKey?: string, deliverySecret?: string }): Promise<{ specVersion: number, hasCreateQueueHandler: boolean }>
  run (workflow: { workflowId: string, args: unknown[], hook?: { token: string, payload: unknown }, stream?: boolean }): Promise<RunOutcome>
  output: () => string
}

/**
 * Starts test/fixtures/runtime-host.mjs: an SDK application process serving a real build's
 * flow/step handlers (from the repository root, so the package resolves itself by name).
 */
export async function startRuntimeHost (t: TestContext, mode: HostMode, buildDir: string, dataDir = ''): Promise<RuntimeHost> {
  if (mode !== 'local' && !existsSync(CLIENT_DIST)) throw new Error(`${CLIENT_DIST} is missing: run npm run build (npm test does it first)`)
  const child = fork(HOST, [mode, buildDir, dataDir], {
    cwd: REPO,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc']
  })
  let output = ''
  child.stdout?.on('data', (chunk) => { output += chunk })
  child.stderr?.on('data', (chunk) => { output += chunk })
  const exited = once(child, 'exit')
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  const pending = new Map<number, { resolve: (value: any) => void, reject: (error: Error) => void }>()
  let nextId = 0
  let listening: (url: string) => void = () => {}
  const url = new Promise<string>((resolve) => { listening = resolve })
  child.on('message', (message: any) => {
    if (message.type === 'listening') listening(message.url)
    const waiter = pending.get(message.id)
    if (waiter === undefined) return
    pending.delete(message.id)
    if (message.type === 'failed') waiter.reject(new Error(`${mode} host: ${message.error}\n${output}`))
    else waiter.resolve(message.result)
  })
  void exited.then(([code]) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${mode} host exited (${code}):\n${output}`))
  })
  const request = (message: Record<string, unknown>) => new Promise<any>((resolve, reject) => {
    const id = nextId++
    pending.set(id, { resolve, reject })
    child.send({ ...message, id })
  })
  return {
    url: await url,
    child,
    configure: (settings) => request({ type: 'configure', ...settings }),
    run: (workflow) => request({ type: 'run', ...workflow }),
    output: () => output
  }
}
