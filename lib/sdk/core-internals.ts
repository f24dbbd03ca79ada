import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'

/**
 * Facts the worker must take from `@workflow/core` exactly as the SDK computes them, but which
 * its exports map (4.8.9) does not expose: the capability table resumeHook() consults, the
 * core version start() records in `executionContext`, the name of a run's default stream
 * (`Run.getReadable()`) and which World errors start() treats as a resilient start. They are loaded from the SDK's own files by path, so an SDK
 * upgrade brings its table and naming along instead of a stale copy here; a layout change
 * fails loudly at import time.
 */
const coreDist = dirname(createRequire(import.meta.url).resolve('@workflow/core/runtime'))

async function loadCoreModule<T> (file: string): Promise<T> {
  return await import(pathToFileURL(join(coreDist, file)).href) as T
}

export interface RunCapabilities {
  supportedFormats: ReadonlySet<string>
  framedByteStreams: boolean
}

const capabilities = await loadCoreModule<{ getRunCapabilities (version: string | undefined): RunCapabilities }>('capabilities.js')
const coreVersion = await loadCoreModule<{ version: string }>('version.js')
const classifyError = await loadCoreModule<{ isRetryableWorldError (error: unknown): boolean }>('classify-error.js')
const util = await loadCoreModule<{ getWorkflowRunStreamId (runId: string, namespace?: string): string }>('util.js')

/** @workflow/core's capabilities.js: what a run created by `workflowCoreVersion` can decode. */
export const getRunCapabilities = capabilities.getRunCapabilities

/** @workflow/core's version.js: the `workflowCoreVersion` start() writes into a new run's executionContext. */
export const WORKFLOW_CORE_VERSION: string = coreVersion.version

/** @workflow/core's util.js: the stream `Run.getReadable()` reads (the run's default output stream). */
export const getWorkflowRunStreamId = util.getWorkflowRunStreamId

/** @workflow/core's classify-error.js: 429, 5xx and transport failures, which start() survives when the queue took the run. */
export const isRetryableWorldError = classifyError.isRetryableWorldError
