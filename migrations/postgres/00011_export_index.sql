-- An index of the songs in title order that holds every column of a song
-- (id last, as in the indexes of 00005): the export of the song list
-- (every song, by title, the list's default order) reads it in order, an
-- index-only scan, and never the table. Through ux_songs_title alone, each
-- song was a lookup of its row, and the rows of songs in title order are
-- scattered over the whole table.

-- +goose Up
CREATE INDEX ix_songs_title_rating_album_id ON songs (title, rating, album_id, id);

-- +goose Down
DROP INDEX ix_songs_title_rating_album_id;
