-- Identities at OpenID providers (internal/accounts, IdentitySchema): the
-- (issuer, subject) pair a provider never reassigns, by which single sign-on
-- finds its user (never by a name or an e-mail address a user can change at
-- the provider), and digest, the hex SHA-256 of the two, unique: one
-- subject of a provider names one user. created_at is RFC 3339 in UTC. A
-- user's identities go with them (ON DELETE CASCADE; accounts.Users deletes
-- them first too, as the stores without foreign keys need).

-- +goose Up
CREATE TABLE identities (
    id         BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id    BIGINT       NOT NULL,
    issuer     VARCHAR(255) NOT NULL,
    subject    VARCHAR(255) NOT NULL,
    digest     CHAR(64)     NOT NULL,
    created_at VARCHAR(32)  NOT NULL,
    UNIQUE KEY ux_identities_digest (digest),
    KEY ix_identities_user_id (user_id),
    CONSTRAINT fk_identities_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- +goose Down
DROP TABLE identities;
