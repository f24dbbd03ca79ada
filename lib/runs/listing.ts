import type { World, WorkflowRunStatus, WorkflowRunWithoutData } from '@workflow/world'
import { decodeCursor, encodeCursor, type Page } from '../pagination.js'
import type { Run, RunEvent } from '../schemas/runs.js'
import { eventView, runView } from './view.js'

export interface RunFilter {
  status?: WorkflowRunStatus
  /** A full workflow id, or an export name (matches `…//<name>`). */
  workflowName?: string
  deploymentId?: string
}

// Filters the World cannot apply are applied here, page by page; one request reads at most this many.
const MAX_WORLD_PAGES = 10

type WorldPosition = { w: string | null }
const isWorldPosition = (value: Record<string, unknown>): boolean => value.w === null || typeof value.w === 'string'

/**
 * Runs, newest first. The World filters by status and full workflow id; deployment and export
 * name are filtered here. Each World page asks for exactly what is still missing, so a page
 * always ends on a World page boundary and the cursor is the World's own. A very selective
 * filter may answer fewer than `limit` runs with `hasMore: true`; follow the cursor.
 */
export async function listRuns (world: World, filter: RunFilter, limit: number, cursor?: string): Promise<Page<Run>> {
  const position = decodeCursor<WorldPosition>(cursor, isWorldPosition)
  const exactName = filter.workflowName?.includes('//') === true ? filter.workflowName : undefined
  const exportSuffix = filter.workflowName !== undefined && exactName === undefined ? `//${filter.workflowName}` : undefined
  const matches = (run: WorkflowRunWithoutData): boolean =>
    (filter.deploymentId === undefined || run.deploymentId === filter.deploymentId) &&
    (exportSuffix === undefined || run.workflowName.endsWith(exportSuffix))

  const data: Run[] = []
  let worldCursor = position?.w ?? undefined
  let hasMore = true
  for (let pages = 0; pages < MAX_WORLD_PAGES && data.length < limit && hasMore; pages++) {
    const page = await world.runs.list({
      status: filter.status,
      workflowName: exactName,
      pagination: { limit: limit - data.length, cursor: worldCursor, sortOrder: 'desc' },
      resolveData: 'none'
    })
    for (const run of page.data) if (matches(run)) data.push(runView(run))
    hasMore = page.hasMore && page.cursor !== null
    worldCursor = page.cursor ?? undefined
  }
  return { data, cursor: hasMore ? encodeCursor({ w: worldCursor ?? null }) : null, hasMore }
}

/** A run's events, oldest first (404 `run_not_found` for an unknown run). */
export async function listRunEvents (world: World, runId: string, limit: number, cursor?: string): Promise<Page<RunEvent>> {
  const position = decodeCursor<WorldPosition>(cursor, isWorldPosition)
  await world.runs.get(runId, { resolveData: 'none' })
  const page = await world.events.list({
    runId,
    pagination: { limit, cursor: position?.w ?? undefined, sortOrder: 'asc' },
    resolveData: 'none'
  })
  const hasMore = page.hasMore && page.cursor !== null
  return { data: page.data.map(eventView), cursor: hasMore ? encodeCursor({ w: page.cursor }) : null, hasMore }
}
