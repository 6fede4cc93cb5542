-- Passwords and TOTP secrets of the built-in directory, and failed-login counters that every hub
-- instance sharing the store sees (brute-force throttling holds across instances).

CREATE TABLE credentials (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    password_hash TEXT,
    totp_secret TEXT,
    -- The last TOTP time step accepted, so a code cannot be used twice.
    totp_last_step BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE login_throttle (
    subject TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    locked_until BIGINT NOT NULL
);
