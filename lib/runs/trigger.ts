import type { World } from '@workflow/world'
import { resolveWorkflow } from '../deployments/manifest.js'
import type { DeploymentStore } from '../deployments/store.js'
import { DomainError } from '../errors.js'
import { fingerprintOf } from '../idempotency/fingerprint.js'
import { performIdempotently, type Claim, type IdempotentOutcome, type WorkResult } from '../idempotency/perform.js'
import type { IdempotencyStore } from '../idempotency/store.js'
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
 * start() does, under an idempotency claim whose reference is the run id. `POST /v1/runs` and
 * provider webhooks go through `start`; `trigger` wraps it for callers without the HTTP plugin.
 */
export class RunTrigger {
  readonly #world: World
  readonly #deployments: DeploymentStore
  readonly #idempotency: IdempotencyStore
  readonly #waitMs: number

  constructor (deps: { world: World, deployments: DeploymentStore, idempotency: IdempotencyStore, waitMs: number }) {
    this.#world = deps.world
    this.#deployments = deps.deployments
    this.#idempotency = deps.idempotency
    this.#waitMs = deps.waitMs
  }

  /**
   * The idempotent trigger keyed by (owner, scope, key): a webhook passes its delivery id as key.
   * `fingerprinted` is what must be equal for a repeat to be a replay (default: the request).
   */
  async trigger (params: {
    owner: string
    scope: string
    key: string
    request: TriggerRequest
    fingerprinted?: unknown
    context?: TriggerContext
  }): Promise<IdempotentOutcome<RunSummary>> {
    return await performIdempotently<RunSummary, TriggerPlan>(this.#idempotency, {
      id: { owner: params.owner, scope: params.scope, key: params.key },
      fingerprint: fingerprintOf(params.fingerprinted ?? params.request),
      newReference: newRunId,
      waitMs: this.#waitMs
    }, async (claim) => await this.start(claim, params.request, params.context))
  }

  /** Resolves the deployment (active pointer by default) and the workflow (404/409 otherwise). */
  resolveTarget (request: TriggerRequest): TriggerPlan {
    const deploymentId = request.deploymentId ?? this.#deployments.activeId()
    if (deploymentId === undefined) {
      throw new DomainError('no_active_deployment', 'No deploymentId was given and no deployment is active')
    }
    const workflow = resolveWorkflow(this.#deployments.workflows(deploymentId), request.workflowName, deploymentId)
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
      plan = this.resolveTarget(request)
      claim.commitPlan(plan)
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
