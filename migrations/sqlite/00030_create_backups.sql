-- +goose Up
-- Backups of sites. The archive lives in backup storage (a local directory
-- or an S3 bucket) under storage_key, encrypted with age; sha256 is the
-- digest of its plaintext and size_bytes the size of the stored object,
-- which counts toward the organization's max_storage_bytes. site_id has no
-- foreign key: a backup outlives its site, to be restored into another one.
-- site_type is the site's type when the backup was taken, for that case.
CREATE TABLE backups (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    site_id         TEXT NOT NULL,
    site_type       TEXT NOT NULL CHECK (site_type IN ('html', 'wordpress', 'laravel')),
    type            TEXT NOT NULL CHECK (type IN ('full', 'files', 'database')),
    description     TEXT NOT NULL DEFAULT '',
    scheduled       BOOLEAN NOT NULL DEFAULT FALSE,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    size_bytes      BIGINT NOT NULL DEFAULT 0 CHECK (size_bytes >= 0),
    sha256          TEXT NOT NULL DEFAULT '',
    storage_key     TEXT NOT NULL DEFAULT '',
    error           TEXT NOT NULL DEFAULT '',
    started_at      DATETIME,
    completed_at    DATETIME,
    expires_at      DATETIME,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);
CREATE INDEX backups_org_created_idx ON backups (organization_id, created_at);
CREATE INDEX backups_org_site_idx ON backups (organization_id, site_id, created_at);

-- One backup schedule per site, deleted with it. next_run_at is when the
-- periodic sweep next takes a backup (UTC); NULL while disabled.
CREATE TABLE backup_schedules (
    site_id         TEXT PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    enabled         BOOLEAN NOT NULL,
    frequency       TEXT NOT NULL CHECK (frequency IN ('daily', 'weekly', 'cron')),
    cron            TEXT NOT NULL DEFAULT '',
    timezone        TEXT NOT NULL,
    type            TEXT NOT NULL CHECK (type IN ('full', 'files', 'database')),
    keep_last       INTEGER NOT NULL CHECK (keep_last >= 1),
    keep_days       INTEGER CHECK (keep_days IS NULL OR keep_days >= 1),
    next_run_at     DATETIME,
    last_run_at     DATETIME,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);
CREATE INDEX backup_schedules_org_idx ON backup_schedules (organization_id);
CREATE INDEX backup_schedules_due_idx ON backup_schedules (next_run_at) WHERE enabled;

-- +goose Down
DROP TABLE backup_schedules;
DROP TABLE backups;
