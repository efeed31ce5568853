-- An identity's modification time, stored as nanoseconds after its
-- creation: 0 for an identity not modified since (most of them), which
-- SQLite stores in no bytes at all where the absolute time took 8.
ALTER TABLE identities RENAME COLUMN modified_ns TO modified_after_ns;
UPDATE identities SET modified_after_ns = modified_after_ns - created_ns;
