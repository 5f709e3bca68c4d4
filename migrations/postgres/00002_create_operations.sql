-- +goose Up
-- Durable operations: long work (VPS bootstrap, site deploys, backups) whose
-- progress clients poll. The River job that runs an operation is job_id.
CREATE TABLE operations (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    target_type     TEXT NOT NULL,
    target_id       TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    step            INTEGER NOT NULL DEFAULT 0 CHECK (step >= 0),
    step_count      INTEGER NOT NULL DEFAULT 0 CHECK (step_count >= 0),
    step_name       TEXT NOT NULL DEFAULT '',
    log             TEXT NOT NULL DEFAULT '',
    error           TEXT NOT NULL DEFAULT '',
    attempts        INTEGER NOT NULL DEFAULT 0,
    params          TEXT NOT NULL DEFAULT '{}',
    job_id          BIGINT,
    created_at      TIMESTAMPTZ NOT NULL,
    started_at      TIMESTAMPTZ,
    finished_at     TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX operations_org_time_idx ON operations (organization_id, created_at);
CREATE INDEX operations_org_target_idx ON operations (organization_id, target_type, target_id, created_at);
CREATE INDEX operations_active_idx ON operations (updated_at) WHERE status IN ('queued', 'running');

-- +goose Down
DROP TABLE operations;
