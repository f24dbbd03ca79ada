export { createInProcessCompute, InProcessCompute, IN_PROCESS_DEFAULTS, type InProcessComputeOptions } from './in-process.js'
export type { ComputeContext, ComputeExecutor, DeliveryEndpoint } from './types.js'
