-- Every e-mail address of every user, by its key (names.rs: case and Unicode normalization
-- folded): the primary key makes an address one user's, whichever door wrote the user. The
-- directory writes these rows in the transaction that writes the user.
--
-- The keys are computed by the store's code, not in SQL, so this table starts empty: when the
-- store opens, each user's addresses are indexed in the order the users were created, an address
-- already indexed for an earlier user being left out. Two users that shared an address before
-- this migration therefore do not stop the hub from starting: the first keeps it, a launch that
-- would send it for the other is refused, and the console lists both until one is changed.

CREATE TABLE user_emails (
    email_key TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX user_emails_user ON user_emails (user_id);
