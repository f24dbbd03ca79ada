/**
 * Body limits of the internal lane. Event data (step inputs and results, run input and output),
 * queue messages (they carry the run input) and stream chunks are user payloads and can run to
 * megabytes; every other lane body is a small envelope (list parameters, a run id).
 */
export const LANE_BODY_LIMITS = {
  envelope: 1024 * 1024,
  eventCreate: 16 * 1024 * 1024,
  queuePublish: 16 * 1024 * 1024,
  streamWrite: 16 * 1024 * 1024
} as const

/** The largest page a list call returns; larger `limit`s are clamped to it. */
export const MAX_PAGE_SIZE = 1000
