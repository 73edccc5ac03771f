-- Schema 1: the data of the bbolt store (store/buckets.go), one table per
-- bucket of records; the bbolt indexes are SQL indexes here.

-- Random keys kept with the data: csrf_key, so CSRF tokens survive
-- restarts and are the same on every instance.
CREATE TABLE keys (
    name  text PRIMARY KEY,
    value bytea NOT NULL
);

CREATE TABLE accounts (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('client', 'partner')),
    -- The partner account managing this client account (store.Account.Partner).
    partner_id text REFERENCES accounts (id),
    created_at timestamptz NOT NULL,
    CHECK (partner_id IS NULL OR kind = 'client')
);
CREATE INDEX accounts_by_partner ON accounts (partner_id) WHERE partner_id IS NOT NULL;

CREATE TABLE users (
    id                  text PRIMARY KEY,
    account_id          text NOT NULL REFERENCES accounts (id),
    -- Stored as store.NormalizeEmail makes it; unique in any case, like
    -- the bbolt store's users_by_email index.
    email               text NOT NULL,
    name                text NOT NULL,
    role                text NOT NULL,
    password_hash       text NOT NULL,
    disabled            boolean NOT NULL DEFAULT false,
    password_changed_at timestamptz,
    created_at          timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_by_email ON users (lower(email));
CREATE INDEX users_by_account ON users (account_id);

-- A session is kept under the SHA-256 of its token; the token itself is
-- never stored. id is the public id that appears in URLs and HTML.
CREATE TABLE sessions (
    token_hash    bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    id            text NOT NULL UNIQUE,
    user_id       text NOT NULL REFERENCES users (id),
    created_at    timestamptz NOT NULL,
    last_active   timestamptz NOT NULL,
    -- When and why it ended (revoked, or expired before a revoke reached
    -- it), and the partner user who revoked it; NULL and '' while live.
    revoked_at    timestamptz,
    revoke_reason text NOT NULL DEFAULT '',
    revoked_by    text NOT NULL DEFAULT '',
    user_agent    text NOT NULL DEFAULT '',
    device        jsonb NOT NULL, -- device.Info, under its JSON names
    first_place   jsonb NOT NULL, -- geo.Place
    last_place    jsonb NOT NULL,
    time_zone     text NOT NULL DEFAULT '',
    CHECK ((revoked_at IS NULL) = (revoke_reason = ''))
);
CREATE INDEX sessions_by_user ON sessions (user_id);
-- For the sweeper: ended sessions by end, live ones by what expires them.
CREATE INDEX sessions_revoked ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX sessions_live_created ON sessions (created_at) WHERE revoked_at IS NULL;
CREATE INDEX sessions_live_active ON sessions (last_active) WHERE revoked_at IS NULL;

-- The security activity log (store/events.go). body is the store.Event as
-- the bbolt store writes it (JSON); at and kind are copied out of it to be
-- searched. seq orders the events of one instant as they were written.
CREATE TABLE events (
    seq     bigserial PRIMARY KEY,
    user_id text NOT NULL REFERENCES users (id),
    at      timestamptz NOT NULL,
    kind    text NOT NULL,
    body    jsonb NOT NULL
);
CREATE INDEX events_by_user ON events (user_id, at, seq);
CREATE INDEX events_by_time ON events (at);
