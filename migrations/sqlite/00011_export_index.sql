-- An index of the songs in title order that holds every column of a song:
-- the export of the song list (every song, by title, the list's default
-- order) reads it in order and never the table. Through ux_songs_title
-- alone, each song was a lookup of its row by id, and the ids of songs in
-- title order are scattered over the whole table: at a million songs the
-- export read a random page of it per row, most of its time.

-- +goose Up
CREATE INDEX ix_songs_title_rating_album_id ON songs (title, rating, album_id);

-- +goose Down
DROP INDEX ix_songs_title_rating_album_id;
