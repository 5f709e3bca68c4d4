-- +goose Up
-- Managed servers. ssh_key_sealed holds the private key sealed by the
-- secrets box (context "vps/<id>/ssh_key"); it is never stored in clear.
-- sites_allocated counts the sites placed on the server; it only moves
-- through conditional updates, so it never passes capacity.
CREATE TABLE vps (
    id                            TEXT PRIMARY KEY,
    organization_id               TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name                          TEXT NOT NULL,
    host                          TEXT NOT NULL,
    port                          INTEGER NOT NULL DEFAULT 22 CHECK (port BETWEEN 1 AND 65535),
    ssh_user                      TEXT NOT NULL,
    ssh_key_sealed                TEXT NOT NULL,
    expected_host_key_fingerprint TEXT NOT NULL DEFAULT '',
    host_key_fingerprint          TEXT NOT NULL DEFAULT '',
    host_public_key               TEXT NOT NULL DEFAULT '',
    labels                        TEXT NOT NULL DEFAULT '{}',
    capacity                      INTEGER NOT NULL CHECK (capacity >= 1),
    sites_allocated               INTEGER NOT NULL DEFAULT 0 CHECK (sites_allocated >= 0 AND sites_allocated <= capacity),
    status                        TEXT NOT NULL CHECK (status IN ('pending', 'provisioning', 'active', 'unreachable', 'error')),
    os                            TEXT NOT NULL DEFAULT '',
    cpu_count                     INTEGER NOT NULL DEFAULT 0,
    memory_bytes                  BIGINT NOT NULL DEFAULT 0,
    disk_bytes                    BIGINT NOT NULL DEFAULT 0,
    php_versions                  TEXT NOT NULL DEFAULT '[]',
    last_health                   TEXT,
    bootstrapped_at               TIMESTAMPTZ,
    created_at                    TIMESTAMPTZ NOT NULL,
    updated_at                    TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX vps_org_name_key ON vps (organization_id, name);
CREATE INDEX vps_org_status_idx ON vps (organization_id, status);

-- +goose Down
DROP TABLE vps;
