-- An index of the songs in title order that holds every column of a song
-- (InnoDB ends every secondary index in the primary key): the export of
-- the song list (every song, by title, the list's default order) reads it
-- in order and never the table. Through ux_songs_title alone, each song was
-- a lookup of its row by id, and the ids of songs in title order are
-- scattered over the whole table.

-- +goose Up
ALTER TABLE songs ADD KEY ix_songs_title_rating_album_id (title, rating, album_id);

-- +goose Down
ALTER TABLE songs DROP KEY ix_songs_title_rating_album_id;
