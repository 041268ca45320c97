-- Indexes for every filter × sort of the lists (README, "List speed"), and the
-- substring-search index of album names.
--
-- A list filtered by one field and sorted by another walks an index whose key
-- is the filter's column, then the sort's: the page is the first rows of one
-- range, read in order, where an index of the filter alone would have every
-- match read and sorted (rating = 5 by title: 100,000 rows sorted per page at a
-- million songs), and one of the sort alone would test rows until the page is
-- full. SQLite ends every index in the rowid, which breaks ties as the lists do.
-- Songs filter on title (its unique index, or its search index), rating and
-- album, and sort by title or rating; a filter on rating sorted by rating is
-- ix_songs_rating already.
--
-- Album names get the trigram index that song titles have (00002): the lookup
-- of the song form and the album list's search read candidates from it
-- instead of folding every name.

-- +goose Up
CREATE INDEX ix_songs_rating_title ON songs (rating, title);
CREATE INDEX ix_songs_album_id_title ON songs (album_id, title);
CREATE INDEX ix_songs_album_id_rating ON songs (album_id, rating);

CREATE VIEW albums_name_grams_src AS
    SELECT id AS rowid, id AS docid, app_grams(name) AS grams FROM albums;

CREATE VIRTUAL TABLE albums_name_grams USING fts4(content="albums_name_grams_src", grams);

-- +goose StatementBegin
CREATE TRIGGER albums_name_grams_ai AFTER INSERT ON albums BEGIN
    INSERT INTO albums_name_grams (docid, grams) VALUES (new.id, app_grams(new.name));
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER albums_name_grams_bu BEFORE UPDATE OF id, name ON albums BEGIN
    DELETE FROM albums_name_grams WHERE docid = old.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER albums_name_grams_au AFTER UPDATE OF id, name ON albums BEGIN
    INSERT INTO albums_name_grams (docid, grams) VALUES (new.id, app_grams(new.name));
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER albums_name_grams_bd BEFORE DELETE ON albums BEGIN
    DELETE FROM albums_name_grams WHERE docid = old.id;
END;
-- +goose StatementEnd

-- Index the albums already there.
INSERT INTO albums_name_grams (albums_name_grams) VALUES ('rebuild');

-- +goose Down
DROP TRIGGER albums_name_grams_bd;
DROP TRIGGER albums_name_grams_au;
DROP TRIGGER albums_name_grams_bu;
DROP TRIGGER albums_name_grams_ai;
DROP TABLE albums_name_grams;
DROP VIEW albums_name_grams_src;

DROP INDEX ix_songs_album_id_rating;
DROP INDEX ix_songs_album_id_title;
DROP INDEX ix_songs_rating_title;
