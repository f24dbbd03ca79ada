import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'

const USAGE = `Usage: compute-worker deploy <dir> [--activate] [--label key=value]... [--json]
         [--url <worker url>] [--api-key <key>]

Uploads a Workflow SDK build (<dir> is the .well-known/workflow/v1 folder or a project holding it):
manifest.json plus flow.js, step.js and webhook.js (or .mjs). The key needs deploy:write.
--url defaults to COMPUTE_WORKER_URL, --api-key to COMPUTE_WORKER_API_KEY.
`

const BUNDLES = ['flow', 'step', 'webhook']
const BUILD_FOLDER = join('.well-known', 'workflow', 'v1')

/** A failure the user can act on: printed without a stack. */
export class CommandError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'CommandError'
  }
}

interface WorkerTarget {
  url: string
  apiKey: string
}

/** The one HTTP call of this command (to be folded onto ComputeClient). */
async function callWorker (target: WorkerTarget, method: string, path: string, body?: unknown): Promise<any> {
  let res: Response
  try {
    res = await fetch(new URL(path, target.url.endsWith('/') ? target.url : target.url + '/'), {
      method,
      headers: { authorization: `Bearer ${target.apiKey}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
  } catch (error) {
    throw new CommandError(`cannot reach ${target.url}: ${(error as Error).message}`)
  }
  const text = await res.text()
  let answer: any
  try { answer = JSON.parse(text) } catch { answer = { message: text } }
  if (!res.ok) {
    throw new CommandError(`${method} ${path} failed: ${res.status} ${answer?.code ?? ''} ${answer?.message ?? ''}`.trim() +
      (answer?.correlationId ? ` (correlation id ${answer.correlationId})` : ''))
  }
  return answer
}

/** The build folder: `dir` itself when it holds manifest.json, else `dir/.well-known/workflow/v1`. */
function buildFolder (dir: string): string {
  for (const candidate of [dir, join(dir, BUILD_FOLDER)]) {
    if (existsSync(join(candidate, 'manifest.json'))) return candidate
  }
  throw new CommandError(`no manifest.json in ${dir} or ${join(dir, BUILD_FOLDER)}: run \`wf build\` first`)
}

/** manifest.json and the bundles found next to it, base64. */
export async function readBuild (dir: string): Promise<{ manifest: unknown, files: Record<string, string> }> {
  const folder = buildFolder(resolve(dir))
  let manifest: unknown
  try {
    manifest = JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8'))
  } catch (error) {
    throw new CommandError(`${join(folder, 'manifest.json')} is not JSON: ${(error as Error).message}`)
  }
  const files: Record<string, string> = {}
  for (const bundle of BUNDLES) {
    for (const ext of ['.js', '.mjs']) {
      const path = join(folder, bundle + ext)
      if (existsSync(path)) files[bundle + ext] = (await readFile(path)).toString('base64')
    }
  }
  return { manifest, files }
}

function parseLabels (labels: string[]): Record<string, string> {
  return Object.fromEntries(labels.map((label) => {
    const at = label.indexOf('=')
    if (at <= 0) throw new CommandError(`--label must be key=value, got "${label}"`)
    return [label.slice(0, at), label.slice(at + 1)]
  }))
}

function describe (deployment: any): string {
  const files = deployment.files.map((file: any) => `${file.name} (${file.size} bytes)`).join(', ') || 'none'
  return [
    `deployment ${deployment.id}${deployment.active ? ' (active)' : ''}`,
    `  digest:    ${deployment.digest}`,
    `  workflows: ${deployment.workflows.length}${deployment.workflows.length > 0 ? '\n    ' + deployment.workflows.join('\n    ') : ''}`,
    `  files:     ${files}`,
    `  created:   ${deployment.createdAt}`
  ].join('\n') + '\n'
}

/** `compute-worker deploy <dir> [--activate]`: uploads a build folder, optionally activates it. */
export async function deploy (args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let parsed
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        activate: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        label: { type: 'string', multiple: true, default: [] },
        url: { type: 'string' },
        'api-key': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false }
      }
    })
  } catch (error) {
    throw new CommandError(`${(error as Error).message}\n\n${USAGE}`)
  }
  const { values, positionals } = parsed
  if (values.help) {
    process.stdout.write(USAGE)
    return
  }
  if (positionals.length !== 1) throw new CommandError(`deploy takes one folder\n\n${USAGE}`)
  const url = values.url ?? env.COMPUTE_WORKER_URL
  const apiKey = values['api-key'] ?? env.COMPUTE_WORKER_API_KEY
  if (url === undefined || url === '') throw new CommandError('the worker URL is missing: --url or COMPUTE_WORKER_URL')
  if (apiKey === undefined || apiKey === '') throw new CommandError('the API key is missing: --api-key or COMPUTE_WORKER_API_KEY')

  const target = { url, apiKey }
  const build = await readBuild(positionals[0])
  let deployment = await callWorker(target, 'POST', 'v1/deployments', { ...build, labels: parseLabels(values.label) })
  if (values.activate) deployment = await callWorker(target, 'POST', `v1/deployments/${deployment.id}/activate`)
  process.stdout.write(values.json ? JSON.stringify(deployment, null, 2) + '\n' : describe(deployment))
}
