-- Indexes for every filter × sort of the lists (README, "List speed"), and the
-- substring-search index of album names.
--
-- A list filtered by one field and sorted by another walks an index whose key
-- is the filter's column, then the sort's: the page is the first rows of one
-- range, read in order, where an index of the filter alone would have every
-- match read and sorted (rating = 5 by title: 100,000 rows sorted per page at a
-- million songs), and one of the sort alone would test rows until the page is
-- full. Each key ends in id, as 00001's do: ties are broken by id, and a page's
-- ids are read from the index alone. Songs filter on title (its unique index,
-- or its search index), rating and album, and sort by title or rating; a
-- filter on rating sorted by rating is ix_songs_rating already.
--
-- Album names get the GIN index of trigrams that song titles have (00002):
-- the lookup of the song form and the album list's search read candidates
-- from it instead of folding every name.

-- +goose Up
CREATE INDEX ix_songs_rating_title ON songs (rating, title, id);
CREATE INDEX ix_songs_album_id_title ON songs (album_id, title, id);
CREATE INDEX ix_songs_album_id_rating ON songs (album_id, rating, id);

CREATE INDEX albums_name_grams ON albums USING gin (app_grams(name));

-- +goose Down
DROP INDEX albums_name_grams;
DROP INDEX ix_songs_album_id_rating;
DROP INDEX ix_songs_album_id_title;
DROP INDEX ix_songs_rating_title;
