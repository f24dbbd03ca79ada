/** The headers the worker and its clients agree on. */

/** Traces a request through the worker, its logs, audit rows and queue deliveries. */
export const CORRELATION_HEADER = 'x-workflow-correlation-id'
/** Names the run a lane call is about, for the worker's audit rows. */
export const RUN_ID_HEADER = 'x-workflow-run-id'
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key'
/** `true` on the stored answer of an earlier request with the same Idempotency-Key. */
export const IDEMPOTENT_REPLAYED_HEADER = 'idempotent-replayed'
/** The absolute index a stream read starts at (a negative start resolved). */
export const STREAM_START_INDEX_HEADER = 'x-stream-start-index'
