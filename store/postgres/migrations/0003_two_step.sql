-- Schema 3: two-step sign-in (store/two_step.go). The authenticator
-- app's secret is sealed by the portal before it reaches the database;
-- recovery codes are kept as SHA-256 hashes, each removed as it is used.
CREATE TABLE two_step (
    user_id    text PRIMARY KEY REFERENCES users (id),
    sealed     bytea NOT NULL,
    -- The last time step a code was accepted for: a code of that step or
    -- an earlier one is refused (UPDATE ... WHERE last_step < $2).
    last_step  bigint NOT NULL DEFAULT 0,
    codes      text[] NOT NULL,
    enabled_at timestamptz NOT NULL
);

-- When the user's two-step sign-in was last turned on or off
-- (store.User.TwoStepChangedAt).
ALTER TABLE users ADD COLUMN two_step_changed_at timestamptz;

-- Every user of the account must use it (store.Account.RequireTwoStep).
ALTER TABLE accounts ADD COLUMN require_two_step boolean NOT NULL DEFAULT false;

-- How a session signed in ('' for the password alone, as every session
-- from before this schema did) and when its user last confirmed it was
-- them.
ALTER TABLE sessions ADD COLUMN auth text NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN confirmed_at timestamptz;
