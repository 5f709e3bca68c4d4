-- +goose Up
-- The platform's ACME account for each CA directory, shared by every server
-- of the fleet. key_sealed is the account's private key sealed by the
-- secrets box (context "acme/<directory_url>/account_key").
CREATE TABLE acme_accounts (
    directory_url TEXT PRIMARY KEY,
    key_sealed    TEXT NOT NULL,
    created_at    DATETIME NOT NULL
);

-- +goose Down
DROP TABLE acme_accounts;
