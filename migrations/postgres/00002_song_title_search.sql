-- Substring-search index on songs.title (README, "Search index"): a GIN index over the
-- title's trigram tokens, the same tokens as on SQLite and MySQL (package textindex:
-- upper-case hex of each run of three characters of the folded title). It is an index
-- on an expression, app_grams(title), so PostgreSQL keeps it in step with every write
-- itself: no side table, no trigger. pg_trgm would need an extension, splits text into
-- words by the database's locale and folds case its own way; these tokens need neither.
--
-- app_fold is Go's strings.ToLower, the folding of every backend: lower() under ICU's
-- root collation maps each character as Go does (a test checks all of Unicode), except
-- that ICU gives İ its full lowering (i + U+0307) and a final Σ the final ς. Mapping İ
-- and Σ as Go does before lower() leaves neither case. Its body is SQL-standard
-- (PostgreSQL 14 and later): parsed here once, and inlined into the queries.
--
-- app_grams is PL/pgSQL: a loop is several times faster than the same in SQL over
-- generate_series, and it runs on every write of a title. It repeats app_fold's
-- expression rather than calling it, so that it needs no search_path (pg_catalog is
-- always searched) when the index is rebuilt or restored under an empty one. Its COST
-- tells the planner that calling it per row is dear, so a search reads the index
-- rather than testing app_grams(title) row by row.

-- +goose Up
CREATE FUNCTION app_fold(s text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN lower(replace(replace(s, 'Σ', 'σ'), 'İ', 'i') COLLATE "und-x-icu");

-- +goose StatementBegin
CREATE FUNCTION app_grams(s text) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 1000
AS $$
DECLARE
    t text := lower(replace(replace(s, 'Σ', 'σ'), 'İ', 'i') COLLATE "und-x-icu"); -- app_fold(s)
    grams text[] := '{}';
BEGIN
    FOR i IN 1 .. char_length(t) - 2 LOOP
        grams := grams || upper(encode(convert_to(substr(t, i, 3), 'UTF8'), 'hex'));
    END LOOP;
    RETURN grams;
END
$$;
-- +goose StatementEnd

-- Indexes the songs already there, too.
CREATE INDEX songs_title_grams ON songs USING gin (app_grams(title));

-- +goose Down
DROP INDEX songs_title_grams;
DROP FUNCTION app_grams(text);
DROP FUNCTION app_fold(text);
