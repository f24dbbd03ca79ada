import { Value } from 'typebox/value'
import { DomainError } from '../errors.js'
import { WorkflowManifest } from '../schemas/deployments.js'

export interface ManifestWorkflow {
  workflowId: string
  /** The export name (`processOrder`), unique or not across the manifest's files. */
  exportName: string
  file: string
}

/** Checks that `value` has the shape of an SDK build's manifest.json (400 otherwise). */
export function assertManifest (value: unknown): asserts value is WorkflowManifest {
  if (Value.Check(WorkflowManifest, value)) return
  const validation = Value.Errors(WorkflowManifest, value).slice(0, 20).map((error) => ({
    in: 'body',
    path: `/manifest${error.instancePath}`,
    message: error.message
  }))
  throw new DomainError('validation_error', 'The manifest does not have the shape of a Workflow SDK manifest.json', { details: { validation } })
}

/** Every workflow of the manifest, in file then export order. */
export function manifestWorkflows (manifest: WorkflowManifest): ManifestWorkflow[] {
  const workflows: ManifestWorkflow[] = []
  for (const [file, exports] of Object.entries(manifest.workflows)) {
    for (const [exportName, entry] of Object.entries(exports)) {
      workflows.push({ workflowId: entry.workflowId, exportName, file })
    }
  }
  return workflows
}

/**
 * Finds the workflow a trigger names: its full id, or its export name when exactly one
 * workflow of the manifest has it. An export name shared by several files identifies none of
 * them: 404 `workflow_not_found`, with the ids to choose from.
 */
export function resolveWorkflow (workflows: readonly ManifestWorkflow[], name: string, deploymentId: string): ManifestWorkflow {
  const byId = workflows.find((workflow) => workflow.workflowId === name)
  if (byId !== undefined) return byId
  const byExport = workflows.filter((workflow) => workflow.exportName === name)
  if (byExport.length === 1) return byExport[0]
  if (byExport.length > 1) {
    throw new DomainError('workflow_not_found',
      `The export name "${name}" is ambiguous in deployment ${deploymentId}; use one of the full workflow ids`,
      { details: { deploymentId, candidates: byExport.map((workflow) => workflow.workflowId) } })
  }
  throw new DomainError('workflow_not_found', `Deployment ${deploymentId} has no workflow "${name}"`, { details: { deploymentId } })
}
