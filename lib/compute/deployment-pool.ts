import { setTimeout as sleep } from 'node:timers/promises'
import type { World } from '@workflow/world'
import { deploymentDir } from './artifacts.js'
import { DeploymentThread, DeploymentUnavailableError, type DeploymentThreadOptions, type ThreadState } from './deployment-thread.js'
import type { ExecutorMetrics, ThreadSample } from './types.js'

/** One loaded deployment's thread, as a health check found it. */
// Type aliases, not interfaces: health reports must be assignable to Record<string, unknown>.
export type ThreadReport = {
  deploymentId: string
  state: ThreadState
  inFlight: number
}

export type PoolStats = {
  /** Loaded deployments, least recently used first. */
  loaded: string[]
  loads: number
  crashes: number
  /** Deployments whose thread died and has not been started again (it is on their next delivery). */
  crashed: string[]
  /** Deployments whose code failed to load; their deliveries fail at once for a few seconds. */
  failedLoads: string[]
}

export interface DeploymentPoolOptions {
  artifactDir: string
  world: World
  /** Most deployments loaded at once; the least recently used idle one is unloaded beyond it. */
  maxLoaded: number
  /** A deployment with nothing in flight for this long is unloaded. */
  idleUnloadMs: number
  /** V8 old-generation limit of each deployment's thread, in MiB. */
  threadMemoryMb: number
  /** After a failed load, deliveries fail at once for this long instead of reloading each time. */
  loadRetryMs: number
  /** Makes the deployment's files present and verified before it is loaded. */
  prepare?: (deploymentId: string) => Promise<unknown>
  log: DeploymentThreadOptions['log']
  metrics?: ExecutorMetrics
}

/**
 * The loaded deployments, one thread each, in least-recently-used order. Loads lazily, unloads
 * idle ones under the count bound and after idleUnloadMs, and forgets a thread when it dies so
 * the next delivery starts a fresh one.
 */
export class DeploymentPool {
  private readonly threads = new Map<string, DeploymentThread>()
  private readonly failedLoads = new Map<string, { error: Error, until: number }>()
  private readonly crashed = new Set<string>()
  private readonly preparing = new Map<string, Promise<DeploymentThread>>()
  private readonly sweeper: NodeJS.Timeout
  private closed = false
  private loads = 0
  private crashes = 0

  constructor (private readonly options: DeploymentPoolOptions) {
    this.sweeper = setInterval(() => this.unloadIdle(), Math.max(1_000, Math.min(60_000, options.idleUnloadMs / 4)))
    this.sweeper.unref()
  }

  /** The deployment's thread, loaded and ready; throws DeploymentUnavailableError or DeploymentNotFoundError. */
  async acquire (deploymentId: string): Promise<DeploymentThread> {
    if (this.closed) throw new DeploymentUnavailableError(deploymentId, 'the executor is closed')
    let thread = this.threads.get(deploymentId)
    if (thread === undefined) {
      const failed = this.failedLoads.get(deploymentId)
      if (failed !== undefined && failed.until > Date.now()) throw failed.error
      thread = await this.prepareAndLoad(deploymentId)
    } else {
      // Map order is the LRU order.
      this.threads.delete(deploymentId)
      this.threads.set(deploymentId, thread)
    }
    try {
      await thread.ready
    } catch (error) {
      this.failedLoads.set(deploymentId, { error: error as Error, until: Date.now() + this.options.loadRetryMs })
      void thread.terminate()
      throw error
    }
    return thread
  }

  stats (): PoolStats {
    const now = Date.now()
    return {
      loaded: [...this.threads.keys()],
      loads: this.loads,
      crashes: this.crashes,
      crashed: [...this.crashed],
      failedLoads: [...this.failedLoads].filter(([, failure]) => failure.until > now).map(([id]) => id)
    }
  }

  /** Checks every loaded thread at once: each answers within `timeoutMs` or is reported unresponsive. */
  async checkThreads (timeoutMs: number): Promise<ThreadReport[]> {
    return await Promise.all([...this.threads.values()].map(async (thread) => ({
      deploymentId: thread.deploymentId,
      state: await thread.check(timeoutMs),
      inFlight: thread.inFlight
    })))
  }

  /** Every loaded thread checked now (state and heap), and every crashed deployment not restarted yet. */
  async sampleThreads (timeoutMs: number): Promise<ThreadSample[]> {
    const threads = [...this.threads.values()]
    const states = await Promise.all(threads.map(async (thread) => await thread.check(timeoutMs)))
    return [
      ...threads.map((thread, i) => ({ deploymentId: thread.deploymentId, state: states[i], heapUsedBytes: thread.heapUsedBytes })),
      ...[...this.crashed].map((deploymentId) => ({ deploymentId, state: 'crashed' as const }))
    ]
  }

  /** Takes no new work, lets deliveries in flight finish for up to `graceMs`, then ends every thread. */
  async close (graceMs: number): Promise<void> {
    this.closed = true
    clearInterval(this.sweeper)
    const threads = [...this.threads.values()]
    this.threads.clear()
    const deadline = Date.now() + graceMs
    while (threads.some((thread) => thread.busy) && Date.now() < deadline) await sleep(20)
    await Promise.all(threads.map(async (thread) => await thread.terminate()))
  }

  // Concurrent deliveries of a deployment not loaded yet share one preparation and one thread.
  private async prepareAndLoad (deploymentId: string): Promise<DeploymentThread> {
    if (this.options.prepare === undefined) return this.load(deploymentId)
    let pending = this.preparing.get(deploymentId)
    if (pending === undefined) {
      const prepare = this.options.prepare
      pending = (async () => {
        try {
          await prepare(deploymentId)
        } catch (error) {
          throw new DeploymentUnavailableError(deploymentId, `its files could not be fetched: ${(error as Error)?.message ?? String(error)}`)
        }
        return this.threads.get(deploymentId) ?? this.load(deploymentId)
      })()
      this.preparing.set(deploymentId, pending)
      pending.finally(() => this.preparing.delete(deploymentId)).catch(() => {})
    }
    return await pending
  }

  private load (deploymentId: string): DeploymentThread {
    const dir = deploymentDir(this.options.artifactDir, deploymentId)
    this.loads++
    const thread = new DeploymentThread({
      deploymentId,
      dir,
      world: this.options.world,
      resourceLimits: { maxOldGenerationSizeMb: this.options.threadMemoryMb },
      log: this.options.log,
      onExit: (gone) => this.forget(gone)
    })
    this.threads.set(deploymentId, thread)
    this.failedLoads.delete(deploymentId)
    this.options.metrics?.threadStarted(this.crashed.delete(deploymentId))
    this.evictBeyondBound(thread)
    return thread
  }

  private forget (thread: DeploymentThread): void {
    if (this.threads.get(thread.deploymentId) !== thread) return
    this.threads.delete(thread.deploymentId)
    if (!this.closed) {
      this.crashes++
      this.options.metrics?.threadCrashed()
      this.crashed.add(thread.deploymentId)
      this.options.log('warn', 'deployment thread exited; it is restarted on its next delivery', { deploymentId: thread.deploymentId })
    }
  }

  private evictBeyondBound (keep?: DeploymentThread): void {
    for (const [id, thread] of this.threads) {
      if (this.threads.size <= this.options.maxLoaded) return
      // Over the bound for a while rather than failing work in flight.
      if (thread === keep || thread.busy) continue
      this.unload(id, thread)
    }
  }

  private unloadIdle (): void {
    const cutoff = Date.now() - this.options.idleUnloadMs
    for (const [id, thread] of this.threads) {
      if (!thread.busy && thread.lastActiveAt < cutoff) this.unload(id, thread)
    }
    this.evictBeyondBound()
  }

  private unload (id: string, thread: DeploymentThread): void {
    this.threads.delete(id)
    void thread.terminate()
  }
}
