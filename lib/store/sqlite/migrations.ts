/**
 * Schema migrations of the control-plane database, applied in order. The database's
 * `PRAGMA user_version` is the number of migrations applied. Append; never edit a shipped one.
 */
export const MIGRATIONS: readonly string[] = [
  /* 1: the whole control plane */ `
  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL UNIQUE,
    name TEXT,
    scopes_json TEXT NOT NULL,
    rate_limit_per_minute INTEGER,
    source TEXT NOT NULL CHECK (source IN ('seed', 'cli', 'api')),
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
  );

  CREATE TABLE idempotency_records (
    api_key_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('in_progress', 'completed')),
    run_id TEXT,
    response_status INTEGER,
    response_json TEXT,
    lease_until INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (api_key_id, scope, idempotency_key)
  );
  CREATE INDEX idempotency_records_expires_at ON idempotency_records (expires_at);

  CREATE TABLE deployments (
    id TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    manifest_json TEXT NOT NULL,
    workflows_json TEXT NOT NULL,
    files_json TEXT NOT NULL,
    labels_json TEXT NOT NULL,
    created_by_key_id TEXT,
    created_at INTEGER NOT NULL,
    activated_at INTEGER
  );
  CREATE INDEX deployments_created_at ON deployments (created_at);

  CREATE TABLE active_deployment (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    deployment_id TEXT NOT NULL REFERENCES deployments (id),
    activated_at INTEGER NOT NULL
  );

  CREATE TABLE webhook_deliveries (
    provider TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('in_progress', 'completed')),
    response_status INTEGER,
    response_json TEXT,
    run_id TEXT,
    correlation_id TEXT,
    received_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (provider, delivery_id)
  );
  CREATE INDEX webhook_deliveries_expires_at ON webhook_deliveries (expires_at);

  CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor_key_id TEXT,
    action TEXT NOT NULL,
    target TEXT,
    outcome TEXT NOT NULL,
    metadata_json TEXT NOT NULL CHECK (json_valid(metadata_json))
  );
  CREATE INDEX audit_log_correlation_id ON audit_log (json_extract(metadata_json, '$.correlationId'));
  CREATE INDEX audit_log_at ON audit_log (at);
  `,
  /* 2: a one-row table the readiness probe writes, to prove the database takes writes */ `
  CREATE TABLE health_probe (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    checked_at INTEGER NOT NULL
  );
  `,
  /*
   * 3: webhook deliveries move into the one idempotency ledger. Each delivery had two records, its
   * own (the reply) and its trigger's (`POST /v1/runs`, owned by `webhook:<provider>`: the run id
   * and the plan); one record now holds all three, owned by `webhook:<provider>`, keyed by the
   * delivery id under the scope and fingerprint of lib/webhooks/receiver.ts, its answer
   * `{ body, runId }`. Live deliveries are carried over: a repeat after the upgrade gets the first
   * answer, and one left in progress by a crash is taken over with its run id and plan.
   */ `
  INSERT INTO idempotency_records
    (api_key_id, scope, idempotency_key, fingerprint, state, run_id, response_status, response_json, lease_until, created_at, updated_at, expires_at)
  SELECT
    'webhook:' || d.provider, 'POST /v1/webhooks/:provider', d.delivery_id, 'delivery-id', d.state,
    COALESCE(d.run_id, t.run_id),
    CASE WHEN d.state = 'completed' THEN d.response_status END,
    CASE
      WHEN d.state = 'completed' AND COALESCE(d.run_id, t.run_id) IS NULL THEN json_object('body', json(COALESCE(d.response_json, 'null')))
      WHEN d.state = 'completed' THEN json_object('body', json(COALESCE(d.response_json, 'null')), 'runId', COALESCE(d.run_id, t.run_id))
      WHEN t.response_json IS NOT NULL THEN json_object(
        'deploymentId', json_extract(t.response_json, '$.deploymentId'),
        'workflowName', json_extract(t.response_json, '$.workflowName'))
    END,
    CASE WHEN d.state = 'completed' THEN NULL ELSE 0 END,
    d.received_at, d.received_at, d.expires_at
  FROM webhook_deliveries AS d
  LEFT JOIN idempotency_records AS t
    ON t.api_key_id = 'webhook:' || d.provider AND t.scope = 'POST /v1/runs' AND t.idempotency_key = d.delivery_id
  WHERE d.expires_at > unixepoch('subsec') * 1000;

  DELETE FROM idempotency_records WHERE api_key_id LIKE 'webhook:%' AND scope = 'POST /v1/runs';
  DROP TABLE webhook_deliveries;
  `,
  /* 4: the dashboard's sign-in sessions; a session's id is the SHA-256 of its cookie, never the cookie */ `
  CREATE TABLE ui_sessions (
    id TEXT PRIMARY KEY,
    api_key_id TEXT NOT NULL REFERENCES api_keys (id),
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX ui_sessions_api_key_id ON ui_sessions (api_key_id);
  CREATE INDEX ui_sessions_expires_at ON ui_sessions (expires_at);
  `,
  /* 5: audit rows copied in from another control plane, each once (`compute-worker migrate --from-sqlite`) */ `
  CREATE TABLE audit_imports (
    import_key TEXT PRIMARY KEY
  );
  `,
  /* 6: the worker that wrote each audit row (COMPUTE_WORKER_NAME); rows from before stay null */ `
  ALTER TABLE audit_log ADD COLUMN worker TEXT;
  `
]
