-- Roles and permissions (the Flask-AppBuilder model): a permission is an action
-- on a view, a role holds permissions, a user holds one or more roles.
-- users.role_id, the single role of before, moves into user_roles and stays
-- unread: dropping a column with a foreign key means rebuilding the table in
-- SQLite, for nothing gained.

-- +goose Up
CREATE TABLE permissions (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    name      VARCHAR(64) NOT NULL,
    view_name VARCHAR(64) NOT NULL,
    CONSTRAINT ck_permissions_name CHECK (length(name) BETWEEN 1 AND 64),
    CONSTRAINT ck_permissions_view_name CHECK (length(view_name) BETWEEN 1 AND 64)
);
CREATE UNIQUE INDEX ux_permissions_view_name ON permissions (view_name, name);

CREATE TABLE role_permissions (
    role_id       INTEGER NOT NULL,
    permission_id INTEGER NOT NULL,
    PRIMARY KEY (role_id, permission_id),
    CONSTRAINT fk_role_permissions_role FOREIGN KEY (role_id) REFERENCES roles (id) ON DELETE CASCADE,
    CONSTRAINT fk_role_permissions_permission FOREIGN KEY (permission_id) REFERENCES permissions (id) ON DELETE CASCADE
);
CREATE INDEX ix_role_permissions_permission_id ON role_permissions (permission_id);

CREATE TABLE user_roles (
    user_id INTEGER NOT NULL,
    role_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, role_id),
    CONSTRAINT fk_user_roles_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT fk_user_roles_role FOREIGN KEY (role_id) REFERENCES roles (id) ON DELETE CASCADE
);
CREATE INDEX ix_user_roles_role_id ON user_roles (role_id);

INSERT INTO user_roles (user_id, role_id) SELECT id, role_id FROM users WHERE role_id IS NOT NULL;

-- +goose Down
UPDATE users SET role_id = (SELECT MIN(role_id) FROM user_roles WHERE user_roles.user_id = users.id);
DROP TABLE user_roles;
DROP TABLE role_permissions;
DROP TABLE permissions;
