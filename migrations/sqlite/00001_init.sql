-- Initial schema: login (roles, users, server-side sessions) and the music catalogue.
-- Text limits are CHECK constraints on character counts (SQLite's length() counts
-- characters), so the database enforces the same rules as the forms. Constraints are
-- table-level and named as on MySQL (and as GORM names them: fk_<table>_<relation>), so
-- GORM's Migrator finds them (HasConstraint) and the schema test can compare both.

-- +goose Up
CREATE TABLE roles (
    id   INTEGER PRIMARY KEY AUTOINCREMENT,
    name VARCHAR(64) NOT NULL,
    CONSTRAINT ck_roles_name CHECK (length(name) BETWEEN 1 AND 64)
);
CREATE UNIQUE INDEX ux_roles_name ON roles (name);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      VARCHAR(64)  NOT NULL,
    first_name    VARCHAR(64)  NOT NULL,
    last_name     VARCHAR(64)  NOT NULL,
    email         VARCHAR(254) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    active        BOOLEAN      NOT NULL DEFAULT 1,
    role_id       INTEGER,
    created_at    BIGINT       NOT NULL,
    CONSTRAINT ck_users_username CHECK (length(username) BETWEEN 1 AND 64),
    CONSTRAINT fk_users_role FOREIGN KEY (role_id) REFERENCES roles (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX ux_users_username ON users (username);
CREATE INDEX ix_users_role_id ON users (role_id);

CREATE TABLE user_sessions (
    id         CHAR(64) PRIMARY KEY,
    user_id    INTEGER  NOT NULL,
    auth_tag   CHAR(64) NOT NULL,
    created_at BIGINT   NOT NULL,
    expires_at BIGINT   NOT NULL,
    CONSTRAINT fk_user_sessions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX ix_user_sessions_user_id ON user_sessions (user_id);

CREATE TABLE albums (
    id   INTEGER PRIMARY KEY AUTOINCREMENT,
    name VARCHAR(100) NOT NULL,
    CONSTRAINT ck_albums_name CHECK (length(name) BETWEEN 1 AND 100)
);
CREATE UNIQUE INDEX ux_albums_name ON albums (name);

CREATE TABLE songs (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    title    VARCHAR(200) NOT NULL,
    rating   INTEGER      NOT NULL DEFAULT 0,
    album_id INTEGER,
    CONSTRAINT ck_songs_title CHECK (length(title) BETWEEN 1 AND 200),
    CONSTRAINT ck_songs_rating CHECK (rating BETWEEN 0 AND 9),
    CONSTRAINT fk_songs_album FOREIGN KEY (album_id) REFERENCES albums (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX ux_songs_title ON songs (title);
CREATE INDEX ix_songs_album_id ON songs (album_id);
CREATE INDEX ix_songs_rating ON songs (rating);

-- +goose Down
DROP TABLE songs;
DROP TABLE albums;
DROP TABLE user_sessions;
DROP TABLE users;
DROP TABLE roles;
