-- Substring-search index on songs.title (README, "Search index"): a FULLTEXT index over
-- the title's trigram tokens, which app_grams() spells exactly as the app's package
-- textindex does (upper-case hex of each run of three characters of LOWER(title)).
-- MariaDB has no ngram parser, and words alone cannot find a substring. Triggers keep
-- the tokens in step with every write, the app's or anyone's; the foreign key deletes
-- them with their song.

-- +goose Up
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

-- Index the songs already there.
INSERT INTO songs_title_grams (row_id, grams) SELECT id, app_grams(title) FROM songs;

-- +goose Down
DROP TRIGGER songs_title_grams_au;
DROP TRIGGER songs_title_grams_ai;
DROP TABLE songs_title_grams;
DROP FUNCTION app_grams;
