import { Type, type Static } from 'typebox'
import { PageOf, pageQuery } from './page.js'

/** The workflow names start() can queue ([C] runtime/helpers.js SAFE_WORKFLOW_NAME_PATTERN). */
export const WORKFLOW_ID_PATTERN = '^[a-zA-Z0-9_\\-./@()[\\]]+$'

const ManifestGroup = <T extends ReturnType<typeof Type.Object>>(entry: T, description: string) =>
  Type.Record(Type.String({ minLength: 1 }), Type.Record(Type.String({ minLength: 1 }), entry), { description })

/**
 * The `manifest.json` a Workflow SDK build writes (`wf build`, `@workflow/builders` Manifest):
 * entries grouped by source file, then by export name. Extra fields (graphs, future keys) pass.
 */
export const WorkflowManifest = Type.Object({
  version: Type.String({ minLength: 1, description: 'Manifest format version, "1.0.0" today' }),
  steps: ManifestGroup(Type.Object({ stepId: Type.String({ minLength: 1 }) }), 'file → export → { stepId }'),
  workflows: ManifestGroup(
    Type.Object({ workflowId: Type.String({ minLength: 1, maxLength: 1024, pattern: WORKFLOW_ID_PATTERN }) }),
    'file → export → { workflowId, graph? }'),
  classes: Type.Optional(ManifestGroup(Type.Object({ classId: Type.String({ minLength: 1 }) }), 'file → class → { classId }'))
}, { title: 'WorkflowManifest', description: 'manifest.json of a Workflow SDK build' })
export type WorkflowManifest = Static<typeof WorkflowManifest>

export const DeploymentLabels = Type.Record(Type.String({ minLength: 1, maxLength: 63 }), Type.String({ maxLength: 256 }), {
  maxProperties: 64,
  description: 'Free-form string labels (git sha, branch, …)'
})

export const CreateDeploymentBody = Type.Object({
  manifest: WorkflowManifest,
  files: Type.Optional(Type.Record(Type.String({ minLength: 1, maxLength: 255 }), Type.String(), {
    maxProperties: 256,
    description: 'File name (relative path) → base64 content: flow.js, step.js, webhook.js (or .mjs) as `wf build` writes them'
  })),
  labels: Type.Optional(DeploymentLabels)
}, { additionalProperties: false })
export type CreateDeploymentBody = Static<typeof CreateDeploymentBody>

export const DeploymentFile = Type.Object({
  name: Type.String(),
  size: Type.Integer({ minimum: 0 }),
  sha256: Type.String({ description: 'hex' })
})

export const Deployment = Type.Object({
  id: Type.String({ examples: ['dpl_01JD8Q7W3X9V2C4N6B8M0K2H4F'] }),
  digest: Type.String({ description: 'sha256 over the manifest and every file digest', examples: ['sha256:…'] }),
  workflows: Type.Array(Type.String(), { description: 'The workflow ids of the manifest' }),
  files: Type.Array(DeploymentFile),
  labels: DeploymentLabels,
  createdAt: Type.String({ format: 'date-time' }),
  active: Type.Boolean(),
  activatedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When it was last activated' })
}, { title: 'Deployment' })
export type DeploymentView = Static<typeof Deployment>

export const DeploymentParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) })

export const ListQuery = Type.Object(pageQuery(100, 20))

export const DeploymentList = PageOf(Deployment)
