import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { DecodedFile } from '../deployments/files.js'

const TEMP_PREFIX = '.tmp-'

/** Where a deployment's files live: `artifactDir/<deploymentId>/<file name as uploaded>`. */
export function deploymentDirectory (artifactDir: string, deploymentId: string): string {
  return join(artifactDir, deploymentId)
}

async function writeDurably (path: string, bytes: Buffer): Promise<void> {
  const handle = await open(path, 'wx')
  try {
    await handle.writeFile(bytes)
    await handle.sync()
  } finally {
    await handle.close()
  }
}

async function syncDirectory (path: string): Promise<void> {
  try {
    const handle = await open(path, 'r')
    try { await handle.sync() } finally { await handle.close() }
  } catch {
    // Not every platform can fsync a directory; the rename is still atomic there.
  }
}

/**
 * Writes the files into a temporary sibling directory, flushes them, then renames it into
 * place: the deployment's directory appears whole or not at all, even if the process dies.
 */
export async function writeArtifacts (artifactDir: string, deploymentId: string, files: readonly DecodedFile[]): Promise<string> {
  const target = deploymentDirectory(artifactDir, deploymentId)
  const temp = join(artifactDir, `${TEMP_PREFIX}${deploymentId}`)
  await mkdir(temp, { recursive: true })
  try {
    for (const file of files) {
      const path = join(temp, file.name)
      await mkdir(dirname(path), { recursive: true })
      await writeDurably(path, file.bytes)
    }
    await syncDirectory(temp)
    await rename(temp, target)
    await syncDirectory(artifactDir)
    return target
  } catch (error) {
    await rm(temp, { recursive: true, force: true })
    throw error
  }
}

export async function removeArtifacts (artifactDir: string, deploymentId: string): Promise<void> {
  await rm(deploymentDirectory(artifactDir, deploymentId), { recursive: true, force: true })
}

/**
 * Removes what a crash can leave behind: temporary directories, and deployment directories
 * whose record was never committed. Only entries older than `minAgeMs` go, so an upload
 * in flight in another process sharing the directory is left alone.
 */
export async function sweepOrphanArtifacts (artifactDir: string, isKnown: (deploymentId: string) => Promise<boolean>, minAgeMs: number, now = Date.now()): Promise<string[]> {
  let entries: string[]
  try {
    entries = await readdir(artifactDir)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  const removed: string[] = []
  for (const entry of entries) {
    const orphan = entry.startsWith(TEMP_PREFIX) || (entry.startsWith('dpl_') && !await isKnown(entry))
    if (!orphan) continue
    const path = join(artifactDir, entry)
    const info = await stat(path).catch(() => undefined)
    if (info === undefined || now - info.mtimeMs < minAgeMs) continue
    await rm(path, { recursive: true, force: true })
    removed.push(entry)
  }
  return removed
}
