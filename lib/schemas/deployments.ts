import { Type, type Static } from 'typebox'
import { DEPLOYMENT_ID, WORKFLOW_ID } from './examples.js'
import { PageOf, pageQuery } from './page.js'

/** The workflow names start() can queue (SAFE_WORKFLOW_NAME_PATTERN in @workflow/core 4.8.9's runtime/helpers.js). */
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
}, {
  additionalProperties: false,
  examples: [{
    manifest: {
      version: '1.0.0',
      steps: { 'workflows/order.ts': { chargeCard: { stepId: 'step//./workflows/order//chargeCard' } } },
      workflows: { 'workflows/order.ts': { processOrder: { workflowId: 'workflow//./workflows/order//processOrder' } } }
    },
    files: { 'flow.js': 'Ly8gd2YgYnVpbGQgb3V0cHV0Cg==', 'step.js': 'Ly8gd2YgYnVpbGQgb3V0cHV0Cg==' },
    labels: { gitSha: '3f9c2e1' }
  }]
})
export type CreateDeploymentBody = Static<typeof CreateDeploymentBody>

export const DeploymentFile = Type.Object({
  name: Type.String(),
  size: Type.Integer({ minimum: 0 }),
  sha256: Type.String({ description: 'hex' })
})

const deploymentExample = {
  id: DEPLOYMENT_ID,
  digest: 'sha256:9b2f6c0d4e8a1f3b5c7d9e0f2a4b6c8d0e1f3a5b7c9d1e3f5a7b9c0d2e4f6a8b',
  workflows: [WORKFLOW_ID],
  files: [
    { name: 'flow.js', size: 19, sha256: 'b0d008bb03cc3fe1806197e436fc6b8545c1342654ad049663d33ad667ceb38a' },
    { name: 'step.js', size: 19, sha256: 'b0d008bb03cc3fe1806197e436fc6b8545c1342654ad049663d33ad667ceb38a' }
  ],
  labels: { gitSha: '3f9c2e1' },
  createdAt: '2026-01-15T09:00:00.000Z',
  active: true,
  activatedAt: '2026-01-15T09:00:05.000Z'
}

export const Deployment = Type.Object({
  id: Type.String({ examples: [DEPLOYMENT_ID] }),
  digest: Type.String({ description: 'sha256 over the manifest and every file digest', examples: [deploymentExample.digest] }),
  workflows: Type.Array(Type.String(), { description: 'The workflow ids of the manifest' }),
  files: Type.Array(DeploymentFile),
  labels: DeploymentLabels,
  createdAt: Type.String({ format: 'date-time' }),
  active: Type.Boolean(),
  activatedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When it was last activated' })
}, {
  title: 'Deployment',
  examples: [deploymentExample]
})
export type DeploymentView = Static<typeof Deployment>

export const DeploymentParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) })

export const ListQuery = Type.Object(pageQuery(100, 20))

export const DeploymentList = PageOf(Deployment, {
  examples: [{ data: [deploymentExample], cursor: null, hasMore: false }]
})
export type DeploymentList = Static<typeof DeploymentList>
