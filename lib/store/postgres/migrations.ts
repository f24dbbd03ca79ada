import { SCHEMA } from './pool.js'

/**
 * Schema migrations of the control plane in PostgreSQL (schema `compute_worker`), applied in
 * order; `compute_worker.schema_migrations` records each one. Append; never edit a shipped one.
 * The same tables as on SQLite, plus the deployments' file contents (content-addressed chunks).
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  /* 1: the whole control plane */ `
  CREATE TABLE ${SCHEMA}.api_keys (
    id text PRIMARY KEY,
    key_hash bytea NOT NULL UNIQUE,
    name text,
    scopes jsonb NOT NULL,
    rate_limit_per_minute integer,
    source text NOT NULL CHECK (source IN ('seed', 'cli', 'api')),
    created_at bigint NOT NULL,
    last_used_at bigint,
    revoked_at bigint
  );

  CREATE TABLE ${SCHEMA}.idempotency_records (
    api_key_id text NOT NULL,
    scope text NOT NULL,
    idempotency_key text NOT NULL,
    fingerprint text NOT NULL,
    state text NOT NULL CHECK (state IN ('in_progress', 'completed')),
    run_id text,
    response_status integer,
    response_json text,
    lease_until bigint,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    PRIMARY KEY (api_key_id, scope, idempotency_key)
  );
  CREATE INDEX idempotency_records_expires_at ON ${SCHEMA}.idempotency_records (expires_at);

  CREATE TABLE ${SCHEMA}.deployments (
    id text PRIMARY KEY,
    digest text NOT NULL,
    manifest_json text NOT NULL,
    workflows jsonb NOT NULL,
    files jsonb NOT NULL,
    labels jsonb NOT NULL,
    created_by_key_id text,
    created_at bigint NOT NULL,
    activated_at bigint
  );
  CREATE INDEX deployments_created_at ON ${SCHEMA}.deployments (created_at DESC, id DESC);

  CREATE TABLE ${SCHEMA}.active_deployment (
    singleton smallint PRIMARY KEY CHECK (singleton = 1),
    deployment_id text NOT NULL REFERENCES ${SCHEMA}.deployments (id),
    activated_at bigint NOT NULL
  );

  -- A file's bytes, once per content: its sha256, then its chunks in order.
  CREATE TABLE ${SCHEMA}.file_contents (
    sha256 text PRIMARY KEY,
    size bigint NOT NULL,
    chunks integer NOT NULL
  );
  CREATE TABLE ${SCHEMA}.file_chunks (
    sha256 text NOT NULL REFERENCES ${SCHEMA}.file_contents (sha256),
    chunk integer NOT NULL,
    bytes bytea NOT NULL,
    PRIMARY KEY (sha256, chunk)
  );
  CREATE TABLE ${SCHEMA}.deployment_files (
    deployment_id text NOT NULL REFERENCES ${SCHEMA}.deployments (id),
    name text NOT NULL,
    sha256 text NOT NULL REFERENCES ${SCHEMA}.file_contents (sha256),
    PRIMARY KEY (deployment_id, name)
  );

  CREATE TABLE ${SCHEMA}.audit_log (
    id bigserial PRIMARY KEY,
    at bigint NOT NULL,
    actor_key_id text,
    action text NOT NULL,
    target text,
    outcome text NOT NULL,
    metadata jsonb NOT NULL,
    -- Set on rows copied in from another control plane: each is copied once.
    import_key text UNIQUE
  );
  CREATE INDEX audit_log_correlation_id ON ${SCHEMA}.audit_log ((metadata ->> 'correlationId'));
  CREATE INDEX audit_log_at ON ${SCHEMA}.audit_log (at);

  CREATE TABLE ${SCHEMA}.ui_sessions (
    id text PRIMARY KEY,
    api_key_id text NOT NULL REFERENCES ${SCHEMA}.api_keys (id),
    created_at bigint NOT NULL,
    last_seen_at bigint NOT NULL,
    expires_at bigint NOT NULL
  );
  CREATE INDEX ui_sessions_api_key_id ON ${SCHEMA}.ui_sessions (api_key_id);
  CREATE INDEX ui_sessions_expires_at ON ${SCHEMA}.ui_sessions (expires_at);

  CREATE TABLE ${SCHEMA}.health_probe (
    singleton smallint PRIMARY KEY CHECK (singleton = 1),
    checked_at bigint NOT NULL
  );
  `,
  /*
   * 2: several workers as one. The worker that wrote each audit row (rows from before stay null);
   * the worker session holding an idempotency lease (each running worker holds the advisory lock
   * of its session number from `worker_sessions`, so a lease whose holder's lock is free is
   * taken over at once); and the per-key request counts of the shared rate limit.
   */ `
  ALTER TABLE ${SCHEMA}.audit_log ADD COLUMN worker text;
  ALTER TABLE ${SCHEMA}.idempotency_records ADD COLUMN lease_holder integer;
  CREATE SEQUENCE ${SCHEMA}.worker_sessions AS integer CYCLE;
  CREATE TABLE ${SCHEMA}.rate_limit_windows (
    key text PRIMARY KEY,
    window_start bigint NOT NULL,
    count integer NOT NULL
  );
  CREATE INDEX rate_limit_windows_window_start ON ${SCHEMA}.rate_limit_windows (window_start);
  `
]
