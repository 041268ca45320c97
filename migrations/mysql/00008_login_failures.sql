-- Failed logins, counted by the login throttle in the database so that every
-- instance of the app on one database shares the count: a row per failure,
-- its client address (an IPv4 address or an IPv6 /64) and its time in Unix
-- milliseconds. The throttle reads an address's newest rows through
-- ix_login_failures_addr_failed_at and removes old ones through
-- ix_login_failures_failed_at, so the table holds about two windows'
-- failures.

-- +goose Up
CREATE TABLE login_failures (
    id        BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    addr      VARCHAR(64) NOT NULL,
    failed_at BIGINT      NOT NULL,
    KEY ix_login_failures_addr_failed_at (addr, failed_at),
    KEY ix_login_failures_failed_at (failed_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- +goose Down
DROP TABLE login_failures;
