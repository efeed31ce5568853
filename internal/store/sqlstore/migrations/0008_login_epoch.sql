-- A count of the transactions that deleted or moved logins, for the login
-- caches of every fedid instance on one PostgreSQL database: each such
-- transaction adds one, each instance reads it every few milliseconds and
-- forgets what it holds when it changed (LoginCache). One row, written
-- only by those rare transactions. SQLite's caches read PRAGMA
-- data_version instead, and leave it at 0.
CREATE TABLE login_epoch (
    n BIGINT NOT NULL
);
INSERT INTO login_epoch (n) VALUES (0);
