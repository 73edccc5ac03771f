-- Schema 2: a version per user's security log (store.UserEventsVersion).
-- Every transaction that adds, merges or deletes a user's events moves
-- the user's number on, so what is shown of the log can be kept until it
-- changes. Updating this row also serialises the writers of one user's
-- log, so two instances flushing failed sign-ins of one network and
-- window merge them into one event instead of writing two.
CREATE TABLE event_versions (
    user_id text PRIMARY KEY REFERENCES users (id),
    version bigint NOT NULL
);
