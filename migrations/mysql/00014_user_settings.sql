-- A user's own settings (internal/accounts, settings.go): the language the
-- pages are shown in (one of the shipped ones; '' for none: the browser's) and
-- the IANA time zone their times are shown in ('' for none: UTC). Only the
-- user sets them, on their settings page or with ?lang=; the session's read
-- of the user takes them with the rest of the row, so a page costs no read
-- more.

-- +goose Up
ALTER TABLE users ADD COLUMN language VARCHAR(16) NOT NULL DEFAULT '', ADD COLUMN time_zone VARCHAR(64) NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE users DROP COLUMN time_zone, DROP COLUMN language;
