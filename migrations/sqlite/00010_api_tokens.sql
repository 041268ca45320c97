-- API tokens (internal/accounts, TokenSchema): a user's named tokens, each
-- stored as the hex SHA-256 of the token alone (digest, unique: a request's
-- token is looked up by it). The times are RFC 3339 text in UTC, as the
-- audit log's; '' is never (expires_at) or not yet (last_used_at). A user's
-- tokens go with them (ON DELETE CASCADE; accounts.Users deletes them first
-- too, as the stores without foreign keys need).

-- +goose Up
CREATE TABLE tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         VARCHAR(100) NOT NULL,
    user_id      INTEGER      NOT NULL,
    created_at   VARCHAR(32)  NOT NULL,
    expires_at   VARCHAR(32)  NOT NULL DEFAULT '',
    last_used_at VARCHAR(32)  NOT NULL DEFAULT '',
    digest       CHAR(64)     NOT NULL,
    CONSTRAINT ck_tokens_name CHECK (length(name) BETWEEN 1 AND 100),
    CONSTRAINT fk_tokens_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX ux_tokens_digest ON tokens (digest);
CREATE INDEX ix_tokens_user_id ON tokens (user_id);

-- +goose Down
DROP TABLE tokens;
