CREATE TABLE oidc_providers (
    arn        TEXT PRIMARY KEY,
    account    TEXT NOT NULL,
    url        TEXT NOT NULL,
    config     TEXT NOT NULL,
    created_ns BIGINT NOT NULL
);
CREATE INDEX oidc_providers_by_account ON oidc_providers (account, arn);
