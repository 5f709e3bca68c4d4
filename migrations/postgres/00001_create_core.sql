-- +goose Up
CREATE TABLE organizations (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    require_2fa       BOOLEAN NOT NULL DEFAULT FALSE,
    max_sites         BIGINT NOT NULL,
    max_vps           BIGINT NOT NULL,
    max_backups       BIGINT NOT NULL,
    max_storage_bytes BIGINT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    deleted_at        TIMESTAMPTZ
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    email         TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    totp_secret   TEXT,
    totp_enabled  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    deleted_at    TIMESTAMPTZ
);
CREATE UNIQUE INDEX users_email_key ON users (email) WHERE deleted_at IS NULL;

CREATE TABLE recovery_codes (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    used_at    TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX recovery_codes_user_idx ON recovery_codes (user_id);

CREATE TABLE memberships (
    id                    TEXT PRIMARY KEY,
    organization_id       TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id               TEXT REFERENCES users (id) ON DELETE CASCADE,
    email                 TEXT NOT NULL,
    role                  TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    status                TEXT NOT NULL CHECK (status IN ('pending', 'active')),
    invitation_token_hash TEXT,
    invitation_expires_at TIMESTAMPTZ,
    invited_by            TEXT,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX memberships_org_email_key ON memberships (organization_id, email);
CREATE UNIQUE INDEX memberships_invitation_key ON memberships (invitation_token_hash);
CREATE INDEX memberships_user_idx ON memberships (user_id);

CREATE TABLE api_tokens (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    token_prefix    TEXT NOT NULL,
    token_hash      TEXT NOT NULL,
    abilities       TEXT NOT NULL,
    expires_at      TIMESTAMPTZ,
    last_used_at    TIMESTAMPTZ,
    revoked_at      TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX api_tokens_hash_key ON api_tokens (token_hash);
CREATE INDEX api_tokens_org_idx ON api_tokens (organization_id, created_at);

CREATE TABLE audit_logs (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    actor_user_id   TEXT,
    token_id        TEXT,
    ip              TEXT NOT NULL DEFAULT '',
    user_agent      TEXT NOT NULL DEFAULT '',
    action          TEXT NOT NULL,
    target_type     TEXT NOT NULL,
    target_id       TEXT NOT NULL DEFAULT '',
    changes         TEXT NOT NULL DEFAULT '{}',
    run_id          TEXT NOT NULL DEFAULT '',
    request_id      TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX audit_logs_org_time_idx ON audit_logs (organization_id, created_at);
CREATE INDEX audit_logs_org_action_idx ON audit_logs (organization_id, action, created_at);
CREATE INDEX audit_logs_org_target_idx ON audit_logs (organization_id, target_type, target_id);
CREATE INDEX audit_logs_org_actor_idx ON audit_logs (organization_id, actor_user_id, created_at);

CREATE TABLE idempotency_keys (
    id              TEXT PRIMARY KEY,
    scope           TEXT NOT NULL,
    idem_key        TEXT NOT NULL,
    method          TEXT NOT NULL,
    path            TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('in_progress', 'done')),
    response_status INTEGER NOT NULL DEFAULT 0,
    response_body   TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX idempotency_keys_scope_key ON idempotency_keys (scope, idem_key);
CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE audit_logs;
DROP TABLE api_tokens;
DROP TABLE memberships;
DROP TABLE recovery_codes;
DROP TABLE users;
DROP TABLE organizations;
