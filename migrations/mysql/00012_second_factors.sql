-- Second factors (internal/accounts, SecondFactorSchema): at most one per
-- user (user_id unique), the TOTP secret sealed with a key derived from the
-- app's secret_key (AES-256-GCM, base64: a reader of the database alone
-- cannot make codes), the time step of the last code accepted (a code is
-- refused when used again), and the hex SHA-256 of each unused recovery
-- code, space separated. enrolled_at is '' until the first code confirms
-- the enrollment, RFC 3339 in UTC after. A user's second factor goes with
-- them (ON DELETE CASCADE; accounts.Users deletes it first too).

-- +goose Up
CREATE TABLE second_factors (
    id          BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id     BIGINT        NOT NULL,
    enrolled_at VARCHAR(32)   NOT NULL DEFAULT '',
    last_step   BIGINT        NOT NULL DEFAULT 0,
    secret      VARCHAR(200)  NOT NULL,
    recovery    VARCHAR(1000) NOT NULL DEFAULT '',
    UNIQUE KEY ux_second_factors_user_id (user_id),
    CONSTRAINT fk_second_factors_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- +goose Down
DROP TABLE second_factors;
