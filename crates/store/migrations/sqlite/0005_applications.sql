-- Applications the hub signs users into, and who is assigned to them. An application's settings
-- are kept as the JSON document they were given in; the hub compiles and checks it. Rows come
-- from the configuration file (managed_by 'config', replaced at every start) or the admin API.
-- Assignments name users and groups by their case-folded name, so an assignment declared before
-- the user is provisioned takes effect when the user arrives; renames carry them along.

CREATE TABLE applications (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    template TEXT NOT NULL,
    definition TEXT NOT NULL,
    managed_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);

CREATE TABLE app_assignments (
    application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    principal_kind TEXT NOT NULL CHECK (principal_kind IN ('user', 'group')),
    principal_key TEXT NOT NULL,
    principal_name TEXT NOT NULL,
    managed_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (application_id, principal_kind, principal_key)
);
CREATE INDEX app_assignments_principal ON app_assignments (principal_kind, principal_key);

-- Bumped by every change to the two tables above, so each hub instance notices another's
-- change with one cheap read.
CREATE TABLE catalog_generation (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL
);
INSERT INTO catalog_generation (id, generation) VALUES (1, 0);
