-- Initial schema: login (roles, users, server-side sessions) and the music catalogue.
-- utf8mb4 stores any Unicode text; utf8mb4_bin compares and orders by code point,
-- exactly like SQLite's default BINARY collation, so uniqueness and sort order are
-- the same on both backends (README, "Collation").

-- +goose Up
CREATE TABLE roles (
    id   BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(64) NOT NULL,
    CONSTRAINT ck_roles_name CHECK (CHAR_LENGTH(name) BETWEEN 1 AND 64),
    UNIQUE KEY ux_roles_name (name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE users (
    id            BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    username      VARCHAR(64)  NOT NULL,
    first_name    VARCHAR(64)  NOT NULL,
    last_name     VARCHAR(64)  NOT NULL,
    email         VARCHAR(254) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    active        BOOLEAN      NOT NULL DEFAULT TRUE,
    role_id       BIGINT       NULL,
    created_at    BIGINT       NOT NULL,
    CONSTRAINT ck_users_username CHECK (CHAR_LENGTH(username) BETWEEN 1 AND 64),
    UNIQUE KEY ux_users_username (username),
    KEY ix_users_role_id (role_id),
    CONSTRAINT fk_users_role FOREIGN KEY (role_id) REFERENCES roles (id) ON DELETE SET NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE user_sessions (
    id         CHAR(64) NOT NULL PRIMARY KEY,
    user_id    BIGINT   NOT NULL,
    auth_tag   CHAR(64) NOT NULL,
    created_at BIGINT   NOT NULL,
    expires_at BIGINT   NOT NULL,
    KEY ix_user_sessions_user_id (user_id),
    CONSTRAINT fk_user_sessions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE albums (
    id   BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    CONSTRAINT ck_albums_name CHECK (CHAR_LENGTH(name) BETWEEN 1 AND 100),
    UNIQUE KEY ux_albums_name (name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE songs (
    id       BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    title    VARCHAR(200) NOT NULL,
    rating   INT          NOT NULL DEFAULT 0,
    album_id BIGINT       NULL,
    CONSTRAINT ck_songs_title CHECK (CHAR_LENGTH(title) BETWEEN 1 AND 200),
    CONSTRAINT ck_songs_rating CHECK (rating BETWEEN 0 AND 9),
    UNIQUE KEY ux_songs_title (title),
    KEY ix_songs_album_id (album_id),
    KEY ix_songs_rating (rating),
    CONSTRAINT fk_songs_album FOREIGN KEY (album_id) REFERENCES albums (id) ON DELETE SET NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- +goose Down
DROP TABLE songs;
DROP TABLE albums;
DROP TABLE user_sessions;
DROP TABLE users;
DROP TABLE roles;
