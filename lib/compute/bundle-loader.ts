import Module, { register } from 'node:module'
import { readFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { pathToFileURL } from 'node:url'

/**
 * Loads a deployment's bundle inside its thread.
 *
 * CommonJS builds (what `wf build` writes as flow.js/step.js) are compiled as CommonJS whatever
 * the nearest package.json says: under a `"type": "module"` package, `require('flow.js')` returns
 * no exports and no error, and the artifact folder carries no package.json of its own.
 * ESM builds (`.mjs`, and `webhook.js`, which is unbundled ESM) are imported with a resolve hook
 * that resolves their bare `workflow/…` imports from the worker's own installation.
 */
export async function loadBundle (file: string, esm: EsmResolution): Promise<Record<string, unknown>> {
  if (file.endsWith('.mjs')) return await esm.importModule(file)
  const source = readFileSync(file, 'utf8').replace(/^\uFEFF/, '')
  if (file.endsWith('.js') && startsAsModule(source)) return await esm.importModule(file)
  try {
    return compileCommonJs(file, source)
  } catch (error) {
    if (file.endsWith('.js') && isModuleSyntaxError(error)) return await esm.importModule(file)
    throw error
  }
}

type CompilableModule = Module & {
  _compile: (content: string, filename: string, format?: 'commonjs') => void
  paths: string[]
}

function compileCommonJs (file: string, source: string): Record<string, unknown> {
  // How Node's own CommonJS loader runs a file, which keeps `require` and dynamic `import()`
  // relative to the bundle. The explicit format stops Node >= 20.19 from loading a file with
  // import/export as ESM by itself (require(esm)), where the async resolve hook would not run.
  const mod = new Module(file) as CompilableModule
  mod.filename = file
  mod.paths = (Module as unknown as { _nodeModulePaths: (dir: string) => string[] })._nodeModulePaths(dirname(file))
  mod._compile(source, file, 'commonjs')
  mod.loaded = true
  return mod.exports as Record<string, unknown>
}

// An ESM file (wf's webhook.js) opens with its imports; a CommonJS bundle never does. Checked
// first so that an ESM file is not compiled as CommonJS only to fail (and warn) on line 1.
function startsAsModule (source: string): boolean {
  const code = source.replace(/^(?:\s+|\/\/[^\n]*\n|\/\*[\s\S]*?\*\/)*/, '')
  return /^(?:import\s*[\w{*'"]|export\s)/.test(code)
}

function isModuleSyntaxError (error: unknown): boolean {
  return error instanceof SyntaxError && /\b(import|export)\b/.test(error.message)
}

/** ESM loading for one deployment folder; the resolve hook is registered on first use. */
export class EsmResolution {
  private registered = false

  constructor (private readonly dir: string, private readonly fallbackUrl: string) {}

  async importModule (file: string): Promise<Record<string, unknown>> {
    this.resolveBareImportsFromWorker()
    return await import(pathToFileURL(file).href) as Record<string, unknown>
  }

  /** Registers the resolve hook now: CommonJS bundles' dynamic `import()`s go through it too. */
  resolveBareImportsFromWorker (): void {
    if (this.registered) return
    this.registered = true
    const root = pathToFileURL(this.dir).href.replace(/\/?$/, '/')
    register(`data:text/javascript,${encodeURIComponent(HOOKS_SOURCE)}`, {
      data: { root, fallbackUrl: this.fallbackUrl }
    })
  }
}

// Module hooks (run on Node's hooks thread). Inside the deployment folder: a bare specifier that
// does not resolve from there resolves from the worker instead, and `.js` files are ESM (the
// CommonJS bundles never go through import()).
const HOOKS_SOURCE = `
let root = ''
let fallbackUrl = ''
export function initialize (data) { root = data.root; fallbackUrl = data.fallbackUrl }
const isBare = (specifier) => !/^(?:\\.{0,2}\\/|[a-z][a-z0-9+.-]*:)/i.test(specifier)
export async function resolve (specifier, context, next) {
  try {
    return await next(specifier, context)
  } catch (error) {
    if (isBare(specifier) && context.parentURL?.startsWith(root)) {
      return next(specifier, { ...context, parentURL: fallbackUrl })
    }
    throw error
  }
}
export async function load (url, context, next) {
  if (url.startsWith(root) && /\\.js(?:[?#]|$)/.test(url)) return next(url, { ...context, format: 'module' })
  return next(url, context)
}
`
