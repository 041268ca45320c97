-- The accounts layer (internal/accounts) reads users, roles and permissions
-- as models like any other:
--   - app_locks holds a row per named lock of datamodel.Together: writes to
--     users and roles take the "accounts" row first, so that the rule of the
--     last active Admin is checked on what they are about to commit, whichever
--     instance makes them (an UPDATE of the row: a row lock on MySQL and
--     PostgreSQL; SQLite's transactions take the database's write lock);
--   - a permission is named by its label ("can list on songsview") in a
--     role's set of permissions, the audit log and the forms.

-- +goose Up
CREATE TABLE app_locks (
    name  VARCHAR(64) NOT NULL PRIMARY KEY,
    taken BIGINT      NOT NULL DEFAULT 0
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
INSERT INTO app_locks (name, taken) VALUES ('accounts', 0);
ALTER TABLE permissions ADD COLUMN label VARCHAR(200) NOT NULL DEFAULT '';
UPDATE permissions SET label = CONCAT(REPLACE(name, '_', ' '), ' on ', view_name);

-- +goose Down
ALTER TABLE permissions DROP COLUMN label;
DROP TABLE app_locks;
