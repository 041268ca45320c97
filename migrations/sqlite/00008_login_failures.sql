-- Failed logins, counted by the login throttle in the database so that every
-- instance of the app on one database shares the count: a row per failure,
-- its client address (an IPv4 address or an IPv6 /64) and its time in Unix
-- milliseconds. The throttle reads an address's newest rows through
-- ix_login_failures_addr_failed_at and removes old ones through
-- ix_login_failures_failed_at, so the table holds about two windows'
-- failures. SQLite does not enforce VARCHAR(64), hence the CHECK (the app
-- cuts longer keys before they get here). AUTOINCREMENT, as elsewhere: an
-- id is never used again, so the throttle's delete by id, which may come
-- after the row was pruned, can never remove another failure.

-- +goose Up
CREATE TABLE login_failures (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    addr      VARCHAR(64) NOT NULL,
    failed_at BIGINT      NOT NULL,
    CONSTRAINT ck_login_failures_addr CHECK (length(addr) <= 64)
);
CREATE INDEX ix_login_failures_addr_failed_at ON login_failures (addr, failed_at);
CREATE INDEX ix_login_failures_failed_at ON login_failures (failed_at);

-- +goose Down
DROP TABLE login_failures;
