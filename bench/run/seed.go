package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// database is a fresh SQLite database for one size, made by the app's own
// commands, with the configuration file that points the app at it.
type database struct {
	dir        string // the size's directory: database, configuration, server logs
	path       string
	configPath string
	password   string // the admin's, who is username
	seedTime   time.Duration
}

// seedDatabase makes a directory for size under tmp, writes the app's
// configuration there and runs create-db, seed (size songs, size/100 albums)
// and create-admin.
func seedDatabase(ctx context.Context, tmp, appBin string, size int) (database, error) {
	var db database
	dir, err := os.MkdirTemp(tmp, fmt.Sprintf("size-%d-", size))
	if err != nil {
		return db, err
	}
	db.dir = dir
	db.path = filepath.Join(dir, "app.db")
	db.configPath = filepath.Join(dir, "config.yaml")
	cfg := fmt.Sprintf("app_name: Music Admin\nsecret_key: %q\ndev: false\ndatabase:\n  driver: sqlite\n  dsn: %q\n"+
		"server:\n  addr: \"127.0.0.1:0\"\n  secure_cookies: false\n", randomHex(32), db.path)
	if err := os.WriteFile(db.configPath, []byte(cfg), 0o600); err != nil {
		return db, err
	}
	app := func(args ...string) error {
		return command(ctx, dir, appBin, append([]string{"--config", db.configPath}, args...)...)
	}
	logf("size %d: create-db and seed %d albums, %d songs", size, max(size/100, 1), size)
	if err := app("create-db"); err != nil {
		return db, err
	}
	start := time.Now()
	if err := app("seed", "--albums", strconv.Itoa(max(size/100, 1)), "--songs", strconv.Itoa(size)); err != nil {
		return db, err
	}
	db.seedTime = time.Since(start)
	db.password = randomHex(12)
	if err := app("create-admin", "--username", username, "--firstname", "Bench", "--lastname", "User",
		"--email", "bench@example.com", "--password", db.password); err != nil {
		return db, err
	}
	return db, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
