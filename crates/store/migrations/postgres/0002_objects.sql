-- Resources of the emulated target account (IAM SAML providers, roles, policies, credentials,
-- Connect instances and users), each a JSON document addressed by kind and ID, and unique by
-- name within its scope (an account, or a Connect instance for its users).

CREATE TABLE objects (
    kind TEXT NOT NULL,
    scope TEXT NOT NULL,
    name_key TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (kind, id),
    UNIQUE (kind, scope, name_key)
);
CREATE INDEX objects_scope ON objects (kind, scope);
