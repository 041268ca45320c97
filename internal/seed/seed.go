// Package seed fills the catalogue with deterministic demo data, fast enough
// for a million songs: multi-row INSERTs, many per transaction.
package seed

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/stdlib"
)

// Batch sizes: rowsPerInsert keeps the placeholders of one statement well
// under SQLite's limit (32766); insertsPerTx amortises the commit (an fsync).
const (
	rowsPerInsert = 500
	insertsPerTx  = 40
)

var (
	adjectives = []string{"Electric", "Silent", "Golden", "Broken", "Midnight", "Velvet", "Crimson", "Lonely",
		"Wild", "Blue", "Neon", "Paper", "Northern", "Hollow", "Burning", "Quiet", "Restless", "Sweet",
		"Distant", "Frozen", "Yellow", "Secret", "Gentle", "Final"}
	nouns = []string{"Love", "Night", "River", "Heart", "Dream", "Road", "Fire", "Rain", "Morning", "City",
		"Garden", "Ocean", "Shadow", "Summer", "Letter", "Window", "Highway", "Mirror", "Echo", "Stars",
		"Train", "Island", "Thunder", "Song"}
)

// Progress is told how many rows of the total are written so far.
type Progress func(done, total int)

// Options says how much to seed.
type Options struct {
	Albums, Songs int
	// NoAlbumEvery leaves every n-th song without an album (0: never).
	NoAlbumEvery int
	// SetUp statements run at the start of every transaction, such as a
	// larger SQLite page cache, which keeps the unique title index in memory
	// while it grows.
	SetUp []string
}

// Run inserts opts.Albums albums and opts.Songs songs. Names continue after
// the highest existing id, so running it again adds more rows instead of
// failing on the unique names. The same options on the same database give
// the same rows.
func Run(ctx context.Context, db *sql.DB, opts Options, progress Progress) error {
	if opts.Albums < 0 || opts.Songs < 0 {
		return fmt.Errorf("seed: counts must not be negative")
	}
	if opts.Songs > 0 && opts.Albums == 0 {
		var n int64
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM albums").Scan(&n); err != nil {
			return fmt.Errorf("seed: count albums: %w", err)
		}
		if n == 0 {
			opts.NoAlbumEvery = 1
		}
	}
	total := opts.Albums + opts.Songs
	done := 0
	report := func(n int) {
		done += n
		if progress != nil {
			progress(done, total)
		}
	}
	rng := rand.New(rand.NewPCG(2026, 11))
	firstAlbum, err := nextID(ctx, db, "albums")
	if err != nil {
		return err
	}
	err = insertRows(ctx, db, opts.SetUp, "albums", []string{"name"}, opts.Albums, func(i int) []any {
		id := firstAlbum + int64(i)
		return []any{fmt.Sprintf("%s %s Vol. %d", pick(rng, adjectives), pick(rng, nouns), id)}
	}, report)
	if err != nil {
		return err
	}
	var minAlbum, maxAlbum sql.NullInt64
	if err := db.QueryRowContext(ctx, "SELECT MIN(id), MAX(id) FROM albums").Scan(&minAlbum, &maxAlbum); err != nil {
		return fmt.Errorf("seed: album ids: %w", err)
	}
	firstSong, err := nextID(ctx, db, "songs")
	if err != nil {
		return err
	}
	return insertRows(ctx, db, opts.SetUp, "songs", []string{"title", "rating", "album_id"}, opts.Songs, func(i int) []any {
		id := firstSong + int64(i)
		title := fmt.Sprintf("%s %s %d", pick(rng, adjectives), pick(rng, nouns), id)
		rating := rng.IntN(10)
		var album any
		if minAlbum.Valid && (opts.NoAlbumEvery == 0 || i%opts.NoAlbumEvery != 0) {
			album = minAlbum.Int64 + rng.Int64N(maxAlbum.Int64-minAlbum.Int64+1)
		}
		return []any{title, rating, album}
	}, report)
}

func pick(rng *rand.Rand, words []string) string { return words[rng.IntN(len(words))] }

func nextID(ctx context.Context, db *sql.DB, table string) (int64, error) {
	var max sql.NullInt64
	if err := db.QueryRowContext(ctx, "SELECT MAX(id) FROM "+table).Scan(&max); err != nil {
		return 0, fmt.Errorf("seed: max id of %s: %w", table, err)
	}
	return max.Int64 + 1, nil
}

// inserter writes rows of one table, rowsPerInsert per statement.
type inserter struct {
	table    string
	cols     []string
	numbered bool // PostgreSQL's $1, $2... where SQLite and MySQL take ?
}

// statement is the INSERT of rows rows.
func (in inserter) statement(rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + in.table + " (" + strings.Join(in.cols, ", ") + ") VALUES ")
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range in.cols {
			if c > 0 {
				b.WriteString(", ")
			}
			if in.numbered {
				b.WriteString("$" + strconv.Itoa(r*len(in.cols)+c+1))
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

// insertRows writes n rows made by row, rowsPerInsert per statement and
// insertsPerTx statements per transaction.
func insertRows(ctx context.Context, db *sql.DB, setUp []string, table string, cols []string, n int, row func(i int) []any, report func(int)) error {
	// database/sql passes the statement to the driver as it is.
	_, numbered := db.Driver().(*stdlib.Driver)
	in := inserter{table: table, cols: cols, numbered: numbered}
	for start := 0; start < n; {
		done, err := in.transaction(ctx, db, setUp, start, n, row, report)
		if err != nil {
			return err
		}
		start = done
	}
	return nil
}

// transaction writes up to insertsPerTx statements of rows from start in
// one transaction and returns where the next one starts.
func (in inserter) transaction(ctx context.Context, db *sql.DB, setUp []string, start, n int, row func(i int) []any, report func(int)) (int, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return start, fmt.Errorf("seed: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // after a commit, a no-op
	for _, q := range setUp {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return start, fmt.Errorf("seed: %s: %w", q, err)
		}
	}
	stmt, err := tx.PrepareContext(ctx, in.statement(rowsPerInsert))
	if err != nil {
		return start, fmt.Errorf("seed: prepare: %w", err)
	}
	defer stmt.Close()
	for k := 0; k < insertsPerTx && start < n; k++ {
		size := min(rowsPerInsert, n-start)
		args := make([]any, 0, size*len(in.cols))
		for i := start; i < start+size; i++ {
			args = append(args, row(i)...)
		}
		if size == rowsPerInsert {
			_, err = stmt.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, in.statement(size), args...)
		}
		if err != nil {
			return start, fmt.Errorf("seed: insert into %s: %w", in.table, err)
		}
		start += size
		report(size)
	}
	if err := tx.Commit(); err != nil {
		return start, fmt.Errorf("seed: commit: %w", err)
	}
	return start, nil
}
