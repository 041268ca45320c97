-- Substring-search index on songs.title, second form (README, "Search index"): every
-- suffix of LOWER(title) that still holds three characters, cut to its first eight
-- characters, as bytes, one row each. A search for text of three characters or more
-- reads the rows whose prefix starts with the text's first eight characters: one range
-- of a B-tree, about as many rows as there are matches, where the FULLTEXT index of
-- 00002 read the whole list of every trigram looked up (InnoDB, about half a
-- microsecond an entry: 24 ms for "river 12" at a million songs, against 1-3 ms here).
-- It costs a row per character of every title (about 1 GB at a million songs).
-- VARBINARY: no collation, no PAD SPACE, and LIKE compares bytes. Triggers keep it in
-- step with every write, the app's or anyone's, as the FULLTEXT triggers did; the
-- trigger of a delete removes the song's rows by their key, as there is no index on
-- row_id alone.

-- +goose Up
DROP TRIGGER songs_title_grams_au;
DROP TRIGGER songs_title_grams_ai;
DROP TABLE songs_title_grams;
DROP FUNCTION app_grams;

CREATE TABLE songs_title_suffixes (
    prefix VARBINARY(32) NOT NULL,
    row_id BIGINT        NOT NULL,
    PRIMARY KEY (prefix, row_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- +goose StatementBegin
CREATE PROCEDURE app_index_suffixes(id BIGINT, title VARCHAR(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
                                    keep BOOLEAN)
    MODIFIES SQL DATA
BEGIN
    DECLARE t VARCHAR(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT LOWER(title);
    DECLARE n INT DEFAULT CHAR_LENGTH(t);
    DECLARE i INT DEFAULT 1;
    WHILE i + 2 <= n DO
        IF keep THEN
            -- IGNORE: a title may hold the same eight characters twice.
            INSERT IGNORE INTO songs_title_suffixes (prefix, row_id) VALUES (CAST(SUBSTRING(t, i, 8) AS BINARY), id);
        ELSE
            DELETE FROM songs_title_suffixes WHERE prefix = CAST(SUBSTRING(t, i, 8) AS BINARY) AND row_id = id;
        END IF;
        SET i = i + 1;
    END WHILE;
END
-- +goose StatementEnd

CREATE TRIGGER songs_title_suffixes_ai AFTER INSERT ON songs FOR EACH ROW
    CALL app_index_suffixes(NEW.id, NEW.title, TRUE);

-- +goose StatementBegin
CREATE TRIGGER songs_title_suffixes_au AFTER UPDATE ON songs FOR EACH ROW
BEGIN
    IF NOT (NEW.title <=> OLD.title) OR NEW.id <> OLD.id THEN
        CALL app_index_suffixes(OLD.id, OLD.title, FALSE);
        CALL app_index_suffixes(NEW.id, NEW.title, TRUE);
    END IF;
END
-- +goose StatementEnd

CREATE TRIGGER songs_title_suffixes_ad AFTER DELETE ON songs FOR EACH ROW
    CALL app_index_suffixes(OLD.id, OLD.title, FALSE);

-- Index the songs already there: one pass per position.
INSERT IGNORE INTO songs_title_suffixes (prefix, row_id)
    WITH RECURSIVE pos (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM pos WHERE i < 198)
    SELECT CAST(SUBSTRING(LOWER(songs.title), pos.i, 8) AS BINARY), songs.id
    FROM pos JOIN songs ON pos.i + 2 <= CHAR_LENGTH(LOWER(songs.title));

-- +goose Down
DROP TRIGGER songs_title_suffixes_ad;
DROP TRIGGER songs_title_suffixes_au;
DROP TRIGGER songs_title_suffixes_ai;
DROP PROCEDURE app_index_suffixes;
DROP TABLE songs_title_suffixes;

-- 00002's FULLTEXT index, as it made it.
-- +goose StatementBegin
CREATE FUNCTION app_grams(s VARCHAR(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin)
    RETURNS TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
    DETERMINISTIC NO SQL
BEGIN
    DECLARE t VARCHAR(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT LOWER(s);
    DECLARE n INT DEFAULT CHAR_LENGTH(t);
    DECLARE i INT DEFAULT 1;
    DECLARE g TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT '';
    WHILE i + 2 <= n DO
        SET g = CONCAT(g, IF(i = 1, '', ' '), HEX(SUBSTRING(t, i, 3)));
        SET i = i + 1;
    END WHILE;
    RETURN g;
END
-- +goose StatementEnd

CREATE TABLE songs_title_grams (
    row_id BIGINT NOT NULL PRIMARY KEY,
    grams  TEXT NOT NULL,
    FULLTEXT KEY ft_songs_title_grams (grams),
    CONSTRAINT fk_songs_title_grams_song FOREIGN KEY (row_id) REFERENCES songs (id)
        ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TRIGGER songs_title_grams_ai AFTER INSERT ON songs FOR EACH ROW
    INSERT INTO songs_title_grams (row_id, grams) VALUES (NEW.id, app_grams(NEW.title));

CREATE TRIGGER songs_title_grams_au AFTER UPDATE ON songs FOR EACH ROW
    UPDATE songs_title_grams SET grams = app_grams(NEW.title) WHERE row_id = NEW.id AND NOT (NEW.title <=> OLD.title);

INSERT INTO songs_title_grams (row_id, grams) SELECT id, app_grams(title) FROM songs;
