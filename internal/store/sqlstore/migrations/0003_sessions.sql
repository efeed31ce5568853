CREATE TABLE sessions (
    access_key_id TEXT PRIMARY KEY,
    secret        TEXT NOT NULL,
    token_hash    BYTEA NOT NULL,
    account       TEXT NOT NULL,
    role_arn      TEXT NOT NULL,
    identity_id   TEXT NOT NULL,
    pool_id       TEXT NOT NULL,
    tags          TEXT NOT NULL,
    created_ns    BIGINT NOT NULL,
    expires_ns    BIGINT NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_ns);
