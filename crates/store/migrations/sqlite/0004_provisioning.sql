-- API tokens (admin API and SCIM), stored as SHA-256 digests: a token is 256 random bits, so a
-- fast digest cannot be reversed and a lookup by digest leaks nothing about the token.
-- Outbound provisioning: per connector and directory user, what the remote side holds.

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    name TEXT NOT NULL,
    token_digest TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT,
    last_used_at BIGINT
);
CREATE INDEX api_tokens_purpose ON api_tokens (purpose, created_at);

CREATE TABLE provisioning_status (
    connector TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    subject_name TEXT NOT NULL,
    remote_id TEXT,
    state TEXT NOT NULL,
    detail TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (connector, subject_id)
);
CREATE INDEX provisioning_status_state ON provisioning_status (connector, state);
