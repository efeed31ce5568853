-- A compact form for identities and logins (about a third of the bytes
-- per identity on SQLite):
--
--   * a pool gets a small integer, num, assigned when it is created as one
--     more than the largest in use (pools are created rarely: no sequence,
--     no counter row), and identities and logins refer to it instead of
--     repeating the pool's 45-character ID;
--   * an identity's ID is stored without its "<region>:" prefix, which is
--     its pool's region, as 16 bytes when the rest is a lowercase UUID (as
--     fedid makes them), else as its own bytes (idkey.go);
--   * on SQLite, tables whose primary key is their access path are
--     WITHOUT ROWID (the dialect's word; nothing on PostgreSQL), and no
--     index repeats another: logins by identity hold only the identity (an
--     identity's few logins are sorted in memory).
--
-- The copy between the two halves of this file is done in Go
-- (compact.go), in the same transaction: it converts every identity ID.
CREATE TABLE pools_c (
    num        BIGINT PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    account    TEXT NOT NULL,
    region     TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_ns BIGINT NOT NULL,
    version    BIGINT NOT NULL,
    config     TEXT NOT NULL
);
-- Each identity ID's stored key, filled by the Go step, dropped below.
CREATE TABLE identity_keys_c (
    id  TEXT PRIMARY KEY,
    key BYTEA NOT NULL
);
-- @go
INSERT INTO pools_c (num, id, account, region, name, created_ns, version, config)
SELECT (SELECT COUNT(*) FROM pools q WHERE q.id <= p.id), p.id, p.account, p.region, p.name, p.created_ns, p.version, p.config
FROM pools p;

CREATE TABLE identities_c (
    id            BYTEA PRIMARY KEY,
    pool_num      BIGINT NOT NULL REFERENCES pools_c (num) ON DELETE CASCADE,
    authenticated BOOLEAN NOT NULL,
    disabled      BOOLEAN NOT NULL,
    created_ns    BIGINT NOT NULL,
    modified_ns   BIGINT NOT NULL
) WITHOUT_ROWID;
INSERT INTO identities_c (id, pool_num, authenticated, disabled, created_ns, modified_ns)
SELECT k.key, p.num, i.authenticated, i.disabled, i.created_ns, i.modified_ns
FROM identities i JOIN identity_keys_c k ON k.id = i.id JOIN pools_c p ON p.id = i.pool_id;

CREATE TABLE logins_c (
    pool_num  BIGINT NOT NULL,
    provider  TEXT NOT NULL,
    key       TEXT NOT NULL,
    identity  BYTEA NOT NULL REFERENCES identities_c (id) ON DELETE CASCADE,
    developer BOOLEAN NOT NULL,
    linked_ns BIGINT NOT NULL,
    PRIMARY KEY (pool_num, provider, key)
) WITHOUT_ROWID;
INSERT INTO logins_c (pool_num, provider, key, identity, developer, linked_ns)
SELECT p.num, l.provider, l.key, k.key, l.developer, l.linked_ns
FROM logins l JOIN identity_keys_c k ON k.id = l.identity_id JOIN pools_c p ON p.id = l.pool_id;

-- Children first: on SQLite, dropping a parent deletes its rows, which
-- would cascade.
DROP TABLE logins;
DROP TABLE identities;
DROP TABLE pools;
DROP TABLE identity_keys_c;
ALTER TABLE pools_c RENAME TO pools;
ALTER TABLE identities_c RENAME TO identities;
ALTER TABLE logins_c RENAME TO logins;

CREATE INDEX pools_by_account ON pools (account, region, created_ns, id);
CREATE INDEX identities_by_pool ON identities (pool_num, created_ns, id);
CREATE INDEX logins_by_identity ON logins (identity);
-- One login per public provider per identity (spec 6.7); developer
-- identifiers of one provider may be many.
CREATE UNIQUE INDEX logins_one_public_per_provider ON logins (identity, provider) WHERE developer = FALSE;
