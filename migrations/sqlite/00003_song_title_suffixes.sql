-- Nothing to do here: MySQL's search index changes form in this migration (see
-- migrations/mysql/00003_song_title_suffixes.sql); every dialect keeps the same
-- list of migrations.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
