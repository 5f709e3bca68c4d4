-- +goose Up
-- How many sites each organization has, kept beside max_sites so that a
-- creation checks and takes its place in the quota with one conditional
-- update of the organization's row, whatever the number of sites.
ALTER TABLE organizations ADD COLUMN sites_count BIGINT NOT NULL DEFAULT 0;
UPDATE organizations SET sites_count = (SELECT count(*) FROM sites WHERE sites.organization_id = organizations.id);

-- +goose Down
ALTER TABLE organizations DROP COLUMN sites_count;
