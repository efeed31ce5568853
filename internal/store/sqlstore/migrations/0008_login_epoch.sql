-- A count of the statements that deleted or moved logins, for the login
-- caches of every fedid instance on one database: each reads it every few
-- milliseconds and forgets what it holds when it changed (LoginCache).
-- Only the engines whose Dialect.Extra adds a trigger for version 8 keep
-- it (PostgreSQL); SQLite's caches read PRAGMA data_version instead.
CREATE TABLE login_epoch (
    n BIGINT NOT NULL
);
INSERT INTO login_epoch (n) VALUES (0);
