-- The audit log: one row per change of a record (create, update, delete), login,
-- failed login, logout and password change. A record's change and its row are
-- written in one transaction (store.Model). Times are UTC, RFC 3339 with
-- microseconds and a fixed width, so text order is time order. changes is a JSON
-- array of {field, old, new}. The rows are append-only: triggers refuse UPDATE
-- and DELETE, so no code path, however wrong, can rewrite the history.
-- Each filter of the list (user, action, view, record) has an index ending in
-- the time it is sorted by, as the song list's have (00005).

-- +goose Up
CREATE TABLE audit_log (
    id           BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
    at           VARCHAR(32)   NOT NULL,
    username     VARCHAR(256)  NOT NULL,
    action       VARCHAR(32)   NOT NULL,
    view_name    VARCHAR(64)   NOT NULL DEFAULT '',
    record_id    VARCHAR(64)   NOT NULL DEFAULT '',
    record_label VARCHAR(501) NOT NULL DEFAULT '',
    changes      TEXT          NOT NULL,
    KEY ix_audit_log_at (at),
    KEY ix_audit_log_username_at (username, at),
    KEY ix_audit_log_action_at (action, at),
    KEY ix_audit_log_view_name_at (view_name, at),
    KEY ix_audit_log_view_name_record_id_at (view_name, record_id, at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_log is append-only';
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_log is append-only';
-- +goose StatementEnd

-- +goose Down
DROP TABLE audit_log;
