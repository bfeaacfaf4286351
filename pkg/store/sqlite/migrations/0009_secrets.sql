-- An owner's secrets. sealed is nonce || AES-256-GCM ciphertext, sealed by
-- the engine with a key kept outside the database and bound to the row's
-- owner and name; the plain value is never stored.
CREATE TABLE secrets (
    owner      TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    sealed     BLOB    NOT NULL,
    size       INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (owner, name)
);
