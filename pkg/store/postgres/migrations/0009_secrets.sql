-- An owner's secrets. sealed is nonce || AES-256-GCM ciphertext, sealed by
-- the engine with a key kept outside the database and bound to the row's
-- owner and name; the plain value is never stored.
CREATE TABLE secrets (
    owner      text COLLATE "C" NOT NULL,
    name       text COLLATE "C" NOT NULL,
    sealed     bytea NOT NULL,
    size       integer NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (owner, name)
);
