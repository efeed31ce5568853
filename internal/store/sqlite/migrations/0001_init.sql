CREATE TABLE access_keys (
    id      TEXT PRIMARY KEY,
    secret  TEXT NOT NULL,
    account TEXT NOT NULL,
    created INTEGER NOT NULL
);

CREATE TABLE pools (
    id         TEXT PRIMARY KEY,
    account    TEXT NOT NULL,
    region     TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_ns INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    config     TEXT NOT NULL
);
CREATE INDEX pools_by_account ON pools (account, region, created_ns, id);

CREATE TABLE identities (
    id            TEXT PRIMARY KEY,
    pool_id       TEXT NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    authenticated INTEGER NOT NULL,
    disabled      INTEGER NOT NULL,
    created_ns    INTEGER NOT NULL,
    modified_ns   INTEGER NOT NULL
);
CREATE INDEX identities_by_pool ON identities (pool_id, created_ns, id);

CREATE TABLE logins (
    pool_id     TEXT NOT NULL,
    identity_id TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    provider    TEXT NOT NULL,
    key         TEXT NOT NULL,
    developer   INTEGER NOT NULL,
    linked_ns   INTEGER NOT NULL,
    PRIMARY KEY (pool_id, provider, key)
);
CREATE INDEX logins_by_identity ON logins (identity_id, linked_ns);
-- One login per public provider per identity (spec 6.7); developer
-- identifiers of one provider may be many.
CREATE UNIQUE INDEX logins_one_public_per_provider ON logins (identity_id, provider) WHERE developer = 0;

CREATE TABLE signing_keys (
    id          TEXT PRIMARY KEY,
    seq         INTEGER NOT NULL UNIQUE,
    private_key BLOB NOT NULL,
    created_ns  INTEGER NOT NULL,
    active_ns   INTEGER NOT NULL,
    retired_ns  INTEGER NOT NULL,
    expires_ns  INTEGER NOT NULL
);
