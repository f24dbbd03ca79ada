import { createHash } from 'node:crypto'
import type { DecodedFile } from '../deployments/files.js'
import type { ControlPlane, DeploymentPosition } from './control-plane.js'

export interface CopyCount {
  /** Found in the source. */
  found: number
  /** New in the target (the rest were there already). */
  copied: number
}

export interface ControlPlaneCopy {
  apiKeys: CopyCount
  deployments: CopyCount
  idempotencyRecords: CopyCount
  auditRows: CopyCount
  /** The source's active deployment, and whether the target now points at it. */
  activeDeployment: { source: string | null, target: string | null }
}

const PAGE = 500

/**
 * Copies one control plane into another (a single worker's SQLite into the PostgreSQL a cluster
 * shares): API keys as they are (same ids, hashes, revocations), deployments with their files,
 * the active pointer when the target has none, live idempotency records, and the audit log in
 * its order. Whatever is already in the target stays as it is, so running it twice copies nothing
 * twice. The dashboard's sessions are not copied: signing in again is cheap.
 */
export async function copyControlPlane (source: ControlPlane, target: ControlPlane, now = Date.now()): Promise<ControlPlaneCopy> {
  const keys = await source.apiKeys.list()
  const apiKeys = { found: keys.length, copied: await target.apiKeys.import(keys) }
  // A key the target already held under another id (a seed key both configured) keeps the
  // target's id: what the source recorded under its id is copied under the target's.
  const targetIds = new Map((await target.apiKeys.list()).map((row) => [row.keyHash.toString('hex'), row.id]))
  const renamed = new Map(keys.map((row) => [row.id, targetIds.get(row.keyHash.toString('hex')) ?? row.id]))
  const keyId = <T extends string | null>(id: T): T => (id === null ? id : renamed.get(id) ?? id) as T

  const deployments = { found: 0, copied: 0 }
  let after: DeploymentPosition | undefined
  for (;;) {
    const page = await source.deployments.page(PAGE, after)
    for (const record of page) {
      deployments.found++
      if (await target.deployments.get(record.id) !== undefined) continue
      const files: DecodedFile[] = await Promise.all(record.files.map(async (entry) => {
        const bytes = await source.deployments.readFile(record.id, entry)
        const sha256 = createHash('sha256').update(bytes).digest('hex')
        if (sha256 !== entry.sha256) throw new Error(`deployment ${record.id}: file ${entry.name} does not match its sha256 (a damaged artifact directory?)`)
        return { ...entry, bytes }
      }))
      if (await target.deployments.insert({ ...record, createdByKeyId: keyId(record.createdByKeyId) }, files, { ifAbsent: true })) deployments.copied++
    }
    if (page.length < PAGE) break
    const last = page[page.length - 1]
    after = { createdAt: last.createdAt, id: last.id }
  }

  const sourceActive = await source.deployments.activeId() ?? null
  let targetActive = await target.deployments.activeId() ?? null
  if (targetActive === null && sourceActive !== null) {
    const record = await source.deployments.get(sourceActive)
    await target.deployments.activate(sourceActive, record?.activatedAt ?? now)
    targetActive = sourceActive
  }

  const records = (await source.idempotency.listLive(now)).map((record) => ({ ...record, owner: keyId(record.owner) }))
  const idempotencyRecords = { found: records.length, copied: await target.idempotency.import(records) }

  return {
    apiKeys,
    deployments,
    idempotencyRecords,
    auditRows: await copyAudit(source, target, keyId),
    activeDeployment: { source: sourceActive, target: targetActive }
  }
}

// The log is read newest first (the only order it is paged in), and written oldest first so the
// copies keep their order: the pages' bounds are found first, then each page is copied, oldest first.
async function copyAudit (source: ControlPlane, target: ControlPlane, keyId: (id: string | null) => string | null): Promise<CopyCount> {
  const bounds: Array<number | undefined> = [undefined]
  for (;;) {
    const page = await source.audit.query({}, PAGE, bounds[bounds.length - 1])
    if (page.length < PAGE) break
    bounds.push(page[page.length - 1].id)
  }
  const count = { found: 0, copied: 0 }
  for (const before of bounds.reverse()) {
    const rows = (await source.audit.query({}, PAGE, before)).reverse()
    count.found += rows.length
    count.copied += await target.audit.import(rows.map(({ id, ...row }) => ({
      ...row,
      actorKeyId: keyId(row.actorKeyId),
      // The same row copied again has the same key, wherever its source file is.
      importKey: `${id}:${createHash('sha256').update(JSON.stringify(row)).digest('hex').slice(0, 32)}`
    })))
  }
  return count
}
