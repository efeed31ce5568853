-- IAM SAML providers (CreateSAMLProvider): the metadata document as
-- registered, and its validUntil (0 for none) in Unix nanoseconds.
CREATE TABLE saml_providers (
    arn            TEXT PRIMARY KEY,
    account        TEXT NOT NULL,
    name           TEXT NOT NULL,
    metadata       TEXT NOT NULL,
    valid_until_ns BIGINT NOT NULL,
    created_ns     BIGINT NOT NULL
);
CREATE INDEX saml_providers_by_account ON saml_providers (account, arn);
