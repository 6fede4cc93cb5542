-- What the configuration file means by a name: the user or group that had it when the file was
-- first applied, renamed since or not. Renames made elsewhere (SCIM, the admin API, the console)
-- must not make a restart lose anyone's access.
--
-- config_users: each [[users]] entry by the name the file gives it, and the user it made or found
-- at the first start. That user stays the file's under a new name: a restart neither makes a
-- second user under the old name nor renames the first one back. Deleting the user drops the
-- row, and the file makes the user again at the next start, as before.
CREATE TABLE config_users (
    declared_name TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX config_users_user ON config_users (user_id);

-- For an assignment the file owns, the name the file gives. The principal columns follow renames
-- of the user or group; this one does not, so a restart finds the file's assignment under the
-- new name instead of replacing it with one to the old name. Assignments the file made before
-- this column existed are taken as made to the name they have now.
ALTER TABLE app_assignments ADD COLUMN declared_name TEXT;
UPDATE app_assignments SET declared_name = principal_name WHERE managed_by = 'config';
