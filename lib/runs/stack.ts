/**
 * An absolute path in a stack frame, with the `:line:column` after it: a file URL, a POSIX path
 * or a Windows one. A `/` inside a word (`node:internal/…`, `a/b`, a URL's path) starts none.
 */
const ABSOLUTE_PATH = /(?:file:\/\/\/?|(?<![\w.:/~-])\/|\b[A-Za-z]:[\\/])[^\s()'"<>]+/g

/**
 * What a path becomes once it leaves the worker: from its last node_modules on
 * (`node_modules/@workflow/core/dist/runtime/step-handler.js`), else the file and the folder it
 * sits in: `dpl_…/flow.js` for a deployment's bundle under the artifact dir, `workflows/demo.ts`
 * for a source-mapped frame, never the server's directories above them.
 */
function relativePath (path: string): string {
  const segments = path.replace(/^file:\/\/\/?/, '').split(/[\\/]/).filter((segment) => segment !== '')
  const modules = segments.lastIndexOf('node_modules')
  return (modules >= 0 ? segments.slice(modules) : segments.slice(-2)).join('/')
}

/**
 * A stack whose frames name files relative to the deployment (or the package) they belong to.
 * Stacks come from the deployment's thread (the SDK records a failed step's or run's stack as
 * the thread threw it) and name where the worker keeps the deployment's files.
 */
export function relativeStack (stack: string): string {
  return stack.replace(ABSOLUTE_PATH, relativePath)
}
