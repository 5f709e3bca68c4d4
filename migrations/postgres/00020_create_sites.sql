-- +goose Up
-- Sites served by a VPS. Secrets are sealed by the secrets box, each bound
-- to its row by context: database_password_sealed ("site/<id>/db_password"),
-- app_secrets_sealed ("site/<id>/app_secrets": WordPress salts, Laravel's
-- APP_KEY), environment_sealed ("site/<id>/environment") and
-- certificate_sealed ("site/<id>/certificate": the PEM chain and key).
-- system_user also names the database, its user and every file of the site
-- on the server; it is derived from the id, never from input. vps_id has
-- no foreign key: a VPS deleted with force leaves its sites behind, to be
-- deleted from CHOM without touching the server.
CREATE TABLE sites (
    id                       TEXT PRIMARY KEY,
    organization_id          TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    vps_id                   TEXT NOT NULL,
    domain                   TEXT NOT NULL,
    aliases                  TEXT NOT NULL DEFAULT '[]',
    type                     TEXT NOT NULL CHECK (type IN ('html', 'wordpress', 'laravel')),
    php_version              TEXT NOT NULL DEFAULT '',
    git_repository           TEXT NOT NULL DEFAULT '',
    git_branch               TEXT NOT NULL DEFAULT '',
    environment_sealed       TEXT NOT NULL DEFAULT '',
    https                    BOOLEAN NOT NULL DEFAULT FALSE,
    suspended                BOOLEAN NOT NULL DEFAULT FALSE,
    status                   TEXT NOT NULL CHECK (status IN ('provisioning', 'active', 'suspended', 'failed', 'deleting')),
    system_user              TEXT NOT NULL,
    database_name            TEXT NOT NULL DEFAULT '',
    database_user            TEXT NOT NULL DEFAULT '',
    database_password_sealed TEXT NOT NULL DEFAULT '',
    app_secrets_sealed       TEXT NOT NULL DEFAULT '',
    certificate_source       TEXT NOT NULL DEFAULT '' CHECK (certificate_source IN ('', 'acme', 'user')),
    certificate_sealed       TEXT NOT NULL DEFAULT '',
    certificate_issuer       TEXT NOT NULL DEFAULT '',
    certificate_domains      TEXT NOT NULL DEFAULT '[]',
    certificate_not_before   TIMESTAMPTZ,
    certificate_not_after    TIMESTAMPTZ,
    certificate_error        TEXT NOT NULL DEFAULT '',
    created_at               TIMESTAMPTZ NOT NULL,
    updated_at               TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX sites_vps_user_key ON sites (vps_id, system_user);
CREATE INDEX sites_org_created_idx ON sites (organization_id, created_at);
CREATE INDEX sites_org_status_idx ON sites (organization_id, status);
CREATE INDEX sites_org_vps_idx ON sites (organization_id, vps_id);
CREATE INDEX sites_certificate_expiry_idx ON sites (certificate_not_after) WHERE https;

-- Every host name a site answers to, its domain and its aliases: the
-- primary key makes a name belong to one site on the whole platform, even
-- when two organizations claim it at the same moment.
CREATE TABLE site_domains (
    name            TEXT PRIMARY KEY,
    site_id         TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE
);
CREATE INDEX site_domains_site_idx ON site_domains (site_id);

-- +goose Down
DROP TABLE site_domains;
DROP TABLE sites;
