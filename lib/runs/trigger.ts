import type { World } from '@workflow/world'
import { resolveWorkflow } from '../deployments/manifest.js'
import type { DeploymentStore } from '../deployments/store.js'
import { DomainError } from '../errors.js'
import type { Claim, WorkResult } from '../idempotency/perform.js'
import type { RunSummary, TriggerRequest } from '../schemas/runs.js'
import { createRun } from './create-run.js'
import { newUlid } from '../ulid.js'

/** What an accepted trigger is bound to once its plan is committed (before the World is called). */
export interface TriggerPlan {
  deploymentId: string
  workflowName: string
}

export interface TriggerContext {
  correlationId?: string
}

/** A fresh run id, in the form start() generates (`wrun_<ULID>`). */
export function newRunId (): string {
  return `wrun_${newUlid()}`
}

/**
 * Triggers runs: resolves the deployment and workflow, then creates the run in the World as
 * start() does. It runs under an idempotency claim whose reference is the run id, so it is
 * the work of whoever holds the claim: `POST /v1/runs` (keyed by API key and Idempotency-Key)
 * and a provider webhook (keyed by provider and delivery id) both call `start`.
 */
export class RunTrigger {
  readonly #world: World
  readonly #deployments: DeploymentStore

  constructor (deps: { world: World, deployments: DeploymentStore }) {
    this.#world = deps.world
    this.#deployments = deps.deployments
  }

  /** Resolves the deployment (active pointer by default) and the workflow (404/409 otherwise). */
  async resolveTarget (request: TriggerRequest): Promise<TriggerPlan> {
    const deploymentId = request.deploymentId ?? await this.#deployments.activeId()
    if (deploymentId === undefined) {
      throw new DomainError('no_active_deployment', 'No deploymentId was given and no deployment is active')
    }
    const workflow = resolveWorkflow(await this.#deployments.workflows(deploymentId), request.workflowName, deploymentId)
    return { deploymentId, workflowName: workflow.workflowId }
  }

  /**
   * The work under a claim. An interrupted earlier attempt's plan wins over a fresh resolution
   * (the active pointer may have moved since), and the plan is committed before the World is
   * called, so every attempt for one key creates the same run on the same deployment.
   */
  async start (claim: Claim<TriggerPlan>, request: TriggerRequest, context: TriggerContext = {}): Promise<WorkResult<RunSummary>> {
    let plan = claim.plan
    if (plan === undefined) {
      plan = await this.resolveTarget(request)
      await claim.commitPlan(plan)
    }
    const runId = claim.reference
    const { run } = await createRun(this.#world, {
      runId,
      deploymentId: plan.deploymentId,
      workflowName: plan.workflowName,
      input: request.input ?? [],
      correlationId: context.correlationId
    })
    // Created now: the World's own view. Already there (a retry) or resiliently started: read it.
    const known = run ?? await this.#world.runs.get(runId, { resolveData: 'none' }).catch(() => undefined)
    return {
      status: 202,
      body: {
        runId,
        status: known?.status ?? 'pending',
        workflowName: plan.workflowName,
        deploymentId: plan.deploymentId,
        createdAt: (known?.createdAt ?? new Date()).toISOString()
      }
    }
  }
}
