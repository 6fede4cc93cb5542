-- Named leases: one holder at a time, until the lease expires or is released. Hub instances
-- sharing one database take a connector's lease before running its provisioning pass, so two
-- instances never push the same connector at once.

CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    -- When this holder took it (kept while the holder renews it).
    acquired_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
