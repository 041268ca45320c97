// Package migrate applies the embedded SQL migrations with goose, the
// Flask-Migrate analog: up, down, status, and new paired migration files.
package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/pressly/goose/v3"

	"musicadmin/internal/config"
	"musicadmin/migrations"
)

// dialects maps a configured driver to its migrations folder and goose
// dialect.
var dialects = map[string]goose.Dialect{
	config.DriverSQLite:   goose.DialectSQLite3,
	config.DriverMySQL:    goose.DialectMySQL,
	config.DriverPostgres: goose.DialectPostgres,
}

// drivers lists the dialect folders in a fixed order, for NewFiles' output.
var drivers = []string{config.DriverSQLite, config.DriverMySQL, config.DriverPostgres}

// Migrator runs the migrations of one driver on a database.
type Migrator struct {
	p *goose.Provider
}

// New returns a migrator for db, whose driver is one of config's.
func New(db *sql.DB, driver string) (*Migrator, error) {
	d, ok := dialects[driver]
	if !ok {
		return nil, fmt.Errorf("migrate: no migrations for driver %q", driver)
	}
	sub, err := fs.Sub(migrations.FS, driver)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	p, err := goose.NewProvider(d, db, sub)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return &Migrator{p: p}, nil
}

// Up applies every pending migration and returns how many ran.
func (m *Migrator) Up(ctx context.Context) (int, error) {
	res, err := m.p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("migrate up: %w", err)
	}
	return len(res), nil
}

// Down rolls back the most recent migration. It returns the version rolled
// back, or 0 when nothing was applied.
func (m *Migrator) Down(ctx context.Context) (int64, error) {
	res, err := m.p.Down(ctx)
	if errors.Is(err, goose.ErrNoNextVersion) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("migrate down: %w", err)
	}
	if res == nil {
		return 0, nil
	}
	return res.Source.Version, nil
}

// Version returns the current schema version and the latest known one.
func (m *Migrator) Version(ctx context.Context) (current, latest int64, err error) {
	current, err = m.p.GetDBVersion(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("migrate: read version: %w", err)
	}
	for _, s := range m.p.ListSources() {
		latest = max(latest, s.Version)
	}
	return current, latest, nil
}

// Status is one migration's state.
type Status struct {
	Version int64
	Name    string
	Applied bool
}

// Status lists every migration and whether it is applied.
func (m *Migrator) Status(ctx context.Context) ([]Status, error) {
	res, err := m.p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate status: %w", err)
	}
	out := make([]Status, 0, len(res))
	for _, s := range res {
		out = append(out, Status{Version: s.Source.Version, Name: filepath.Base(s.Source.Path),
			Applied: s.State == goose.StateApplied})
	}
	return out, nil
}

var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9_]{0,63}$`)

// NewFiles writes an empty migration NAME for every dialect under dir (the
// source tree's migrations folder), numbered after the highest embedded
// version, and returns the paths written. The files are embedded at the next
// build.
func NewFiles(dir, name string) ([]string, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if !validName.MatchString(name) {
		return nil, fmt.Errorf("migration name %q: use lower-case letters, digits and _", name)
	}
	next := int64(1)
	for _, driver := range drivers {
		entries, err := os.ReadDir(filepath.Join(dir, driver))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, driver), err)
		}
		for _, e := range entries {
			prefix, _, _ := strings.Cut(e.Name(), "_")
			if v, err := strconv.ParseInt(prefix, 10, 64); err == nil && v >= next {
				next = v + 1
			}
		}
	}
	var written []string
	for _, driver := range drivers {
		path := filepath.Join(dir, driver, fmt.Sprintf("%05d_%s.sql", next, name))
		body := fmt.Sprintf("-- %s (%s)\n\n-- +goose Up\n\n-- +goose Down\n", name, driver)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			return written, fmt.Errorf("write %s: %w", path, err)
		}
		written = append(written, path)
	}
	return written, nil
}
