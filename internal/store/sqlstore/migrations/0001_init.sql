-- Written in PostgreSQL's types; the SQLite dialect translates them
-- (BIGINT and BOOLEAN to INTEGER, BYTEA to BLOB, FALSE to 0), so both
-- engines get the schema they always had.
-- No sequences and no hot counters: every key is a client-generated ID or
-- a natural key, so the schema also suits PostgreSQL-compatible
-- distributed engines, where a sequence is a single point of contention.
CREATE TABLE access_keys (
    id      TEXT PRIMARY KEY,
    secret  TEXT NOT NULL,
    account TEXT NOT NULL,
    created BIGINT NOT NULL
);

CREATE TABLE pools (
    id         TEXT PRIMARY KEY,
    account    TEXT NOT NULL,
    region     TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_ns BIGINT NOT NULL,
    version    BIGINT NOT NULL,
    config     TEXT NOT NULL
);
CREATE INDEX pools_by_account ON pools (account, region, created_ns, id);

CREATE TABLE identities (
    id            TEXT PRIMARY KEY,
    pool_id       TEXT NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    authenticated BOOLEAN NOT NULL,
    disabled      BOOLEAN NOT NULL,
    created_ns    BIGINT NOT NULL,
    modified_ns   BIGINT NOT NULL
);
CREATE INDEX identities_by_pool ON identities (pool_id, created_ns, id);

CREATE TABLE logins (
    pool_id     TEXT NOT NULL,
    identity_id TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    provider    TEXT NOT NULL,
    key         TEXT NOT NULL,
    developer   BOOLEAN NOT NULL,
    linked_ns   BIGINT NOT NULL,
    PRIMARY KEY (pool_id, provider, key)
);
CREATE INDEX logins_by_identity ON logins (identity_id, linked_ns);
-- One login per public provider per identity (spec 6.7); developer
-- identifiers of one provider may be many.
CREATE UNIQUE INDEX logins_one_public_per_provider ON logins (identity_id, provider) WHERE developer = FALSE;

CREATE TABLE signing_keys (
    id          TEXT PRIMARY KEY,
    seq         BIGINT NOT NULL UNIQUE,
    private_key BYTEA NOT NULL,
    created_ns  BIGINT NOT NULL,
    active_ns   BIGINT NOT NULL,
    retired_ns  BIGINT NOT NULL,
    expires_ns  BIGINT NOT NULL
);
