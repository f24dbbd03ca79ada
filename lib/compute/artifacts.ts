import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'

/** The bundles `wf build` writes (`flow.js`, `step.js`, `webhook.js`), or their `.mjs`/`.cjs` builds. */
export type BundleName = 'flow' | 'step' | 'webhook'

const EXTENSIONS = ['.js', '.mjs', '.cjs'] as const

// Deployment ids reach the file system from queue messages: one plain path segment, nothing else.
const SAFE_DEPLOYMENT_ID = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,199}$/

export class DeploymentNotFoundError extends Error {
  readonly deploymentId: string
  constructor (deploymentId: string, reason: string) {
    super(`deployment ${JSON.stringify(deploymentId)} cannot run here: ${reason}`)
    this.name = 'DeploymentNotFoundError'
    this.deploymentId = deploymentId
  }
}

/** The artifact folder of a deployment, or throws when the id is unsafe or the folder has no bundles. */
export function deploymentDir (artifactDir: string, deploymentId: string): string {
  if (!SAFE_DEPLOYMENT_ID.test(deploymentId) || deploymentId.includes('..')) {
    throw new DeploymentNotFoundError(deploymentId, 'not a valid deployment id')
  }
  const dir = resolve(artifactDir, deploymentId)
  // The reason reaches run_failed events and GET /v1/runs/:id: it names the file, never the server's directory.
  if (findBundle(dir, 'flow') === undefined) {
    throw new DeploymentNotFoundError(deploymentId, `its files have no flow.js (nor ${EXTENSIONS.slice(1).map((extension) => `flow${extension}`).join(', ')})`)
  }
  return dir
}

/** The path of a bundle in a deployment folder, whichever extension it was built with. */
export function findBundle (dir: string, name: BundleName): string | undefined {
  for (const extension of EXTENSIONS) {
    const file = join(dir, name + extension)
    if (existsSync(file)) return file
  }
  return undefined
}
