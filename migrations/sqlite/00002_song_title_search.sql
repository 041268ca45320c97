-- Substring-search index on songs.title (README, "Search index"): an FTS4 table of the
-- title's trigram tokens, made by app_grams(), a function the app registers on every
-- connection (package textindex). FTS4 is built into the SQLite driver; FTS5 would
-- need a build tag on every build. The index stores no text of its own: it reads
-- tokens back through songs_title_grams_src when it must delete a row's old tokens,
-- so the triggers delete before the title changes and insert after.

-- +goose Up
CREATE VIEW songs_title_grams_src AS
    SELECT id AS rowid, id AS docid, app_grams(title) AS grams FROM songs;

CREATE VIRTUAL TABLE songs_title_grams USING fts4(content="songs_title_grams_src", grams);

-- +goose StatementBegin
CREATE TRIGGER songs_title_grams_ai AFTER INSERT ON songs BEGIN
    INSERT INTO songs_title_grams (docid, grams) VALUES (new.id, app_grams(new.title));
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER songs_title_grams_bu BEFORE UPDATE OF id, title ON songs BEGIN
    DELETE FROM songs_title_grams WHERE docid = old.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER songs_title_grams_au AFTER UPDATE OF id, title ON songs BEGIN
    INSERT INTO songs_title_grams (docid, grams) VALUES (new.id, app_grams(new.title));
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER songs_title_grams_bd BEFORE DELETE ON songs BEGIN
    DELETE FROM songs_title_grams WHERE docid = old.id;
END;
-- +goose StatementEnd

-- Index the songs already there.
INSERT INTO songs_title_grams (songs_title_grams) VALUES ('rebuild');

-- +goose Down
DROP TRIGGER songs_title_grams_bd;
DROP TRIGGER songs_title_grams_au;
DROP TRIGGER songs_title_grams_bu;
DROP TRIGGER songs_title_grams_ai;
DROP TABLE songs_title_grams;
DROP VIEW songs_title_grams_src;
