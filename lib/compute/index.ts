export { createInProcessCompute, type InProcessComputeOptions } from './in-process.js'
