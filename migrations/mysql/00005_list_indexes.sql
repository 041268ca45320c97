-- Indexes for every filter × sort of the lists (README, "List speed"), and the
-- substring-search index of album names.
--
-- A list filtered by one field and sorted by another walks an index whose key
-- is the filter's column, then the sort's: the page is the first rows of one
-- range, read in order, where an index of the filter alone would have every
-- match read and sorted (rating = 5 by title: 100,000 rows sorted per page at a
-- million songs), and one of the sort alone would test rows until the page is
-- full. InnoDB ends every index in the primary key, which breaks ties as the
-- lists do. Songs filter on title (its unique index, or its search index),
-- rating and album, and sort by title or rating; a filter on rating sorted by
-- rating is ix_songs_rating already.
--
-- Album names get the suffix index that song titles have (00003), kept by
-- triggers the same way: the lookup of the song form and the album list's
-- search read one range of it instead of folding every name.

-- +goose Up
ALTER TABLE songs
    ADD KEY ix_songs_rating_title (rating, title),
    ADD KEY ix_songs_album_id_title (album_id, title),
    ADD KEY ix_songs_album_id_rating (album_id, rating);

CREATE TABLE albums_name_suffixes (
    prefix VARBINARY(32) NOT NULL,
    row_id BIGINT        NOT NULL,
    PRIMARY KEY (prefix, row_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- +goose StatementBegin
CREATE PROCEDURE app_index_album_name_suffixes(id BIGINT, name VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
                                               keep BOOLEAN)
    MODIFIES SQL DATA
BEGIN
    DECLARE t VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT LOWER(name);
    DECLARE n INT DEFAULT CHAR_LENGTH(t);
    DECLARE i INT DEFAULT 1;
    WHILE i + 2 <= n DO
        IF keep THEN
            -- IGNORE: a name may hold the same eight characters twice.
            INSERT IGNORE INTO albums_name_suffixes (prefix, row_id) VALUES (CAST(SUBSTRING(t, i, 8) AS BINARY), id);
        ELSE
            DELETE FROM albums_name_suffixes WHERE prefix = CAST(SUBSTRING(t, i, 8) AS BINARY) AND row_id = id;
        END IF;
        SET i = i + 1;
    END WHILE;
END
-- +goose StatementEnd

CREATE TRIGGER albums_name_suffixes_ai AFTER INSERT ON albums FOR EACH ROW
    CALL app_index_album_name_suffixes(NEW.id, NEW.name, TRUE);

-- +goose StatementBegin
CREATE TRIGGER albums_name_suffixes_au AFTER UPDATE ON albums FOR EACH ROW
BEGIN
    IF NOT (NEW.name <=> OLD.name) OR NEW.id <> OLD.id THEN
        CALL app_index_album_name_suffixes(OLD.id, OLD.name, FALSE);
        CALL app_index_album_name_suffixes(NEW.id, NEW.name, TRUE);
    END IF;
END
-- +goose StatementEnd

CREATE TRIGGER albums_name_suffixes_ad AFTER DELETE ON albums FOR EACH ROW
    CALL app_index_album_name_suffixes(OLD.id, OLD.name, FALSE);

-- Index the albums already there: one pass per position.
INSERT IGNORE INTO albums_name_suffixes (prefix, row_id)
    WITH RECURSIVE pos (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM pos WHERE i < 98)
    SELECT CAST(SUBSTRING(LOWER(albums.name), pos.i, 8) AS BINARY), albums.id
    FROM pos JOIN albums ON pos.i + 2 <= CHAR_LENGTH(LOWER(albums.name));

-- +goose Down
DROP TRIGGER albums_name_suffixes_ad;
DROP TRIGGER albums_name_suffixes_au;
DROP TRIGGER albums_name_suffixes_ai;
DROP PROCEDURE app_index_album_name_suffixes;
DROP TABLE albums_name_suffixes;

ALTER TABLE songs
    DROP KEY ix_songs_album_id_rating,
    DROP KEY ix_songs_album_id_title,
    DROP KEY ix_songs_rating_title;
