-- The audit log is indexed by time only, as Keycloak's event store is. The index on
-- (actor, at) cost every record a write to a page of its own (records of several actors in one
-- commit wrote one index page each), and the log's one query, with its optional filters, was
-- not planned on it on SQLite; a filter by actor or action reads back from the newest record.
DROP INDEX IF EXISTS audit_log_actor;
