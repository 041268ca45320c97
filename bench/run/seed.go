package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// database is a fresh database of one backend for one size, made by the
// app's own commands, with the configuration file that points the app at it.
type database struct {
	backend    backend
	name       string // on the backend's server; unused by SQLite
	dir        string // the database's directory: configuration, SQLite file, server logs
	dsn        string
	configPath string
	password   string // the admin's, who is username
	token      string // an API token of the admin (create-token)
	seedTime   time.Duration
}

// seedDatabase makes a directory for b and size under tmp, a fresh database
// on b, writes the app's configuration there and runs create-db, seed (size
// songs, albums albums), create-admin and create-token (the admin's bearer
// for the API pages). When it fails after making the database, the
// database it returns is still to be dropped.
func seedDatabase(ctx context.Context, tmp, appBin string, b backend, size, albums int) (database, error) {
	db := database{backend: b}
	dir, err := os.MkdirTemp(tmp, fmt.Sprintf("%s-%d-", b.name, size))
	if err != nil {
		return db, err
	}
	db.dir = dir
	// Named for the bench and unique, so a server shared with other work
	// (or another bench) never sees a clash; only letters, digits and _,
	// as it is spelled into CREATE DATABASE.
	name := fmt.Sprintf("musicadmin_bench_%d_%s", size, randomHex(4))
	if db.dsn, err = b.create(ctx, dir, name); err != nil {
		return db, fmt.Errorf("create database: %w", err)
	}
	db.name = name
	db.configPath = filepath.Join(dir, "config.yaml")
	cfg := fmt.Sprintf("app_name: Music Admin\nsecret_key: %q\ndev: false\ndatabase:\n  driver: %s\n  dsn: %q\n"+
		"server:\n  addr: \"127.0.0.1:0\"\n  secure_cookies: false\n", randomHex(32), b.name, db.dsn)
	if err := os.WriteFile(db.configPath, []byte(cfg), 0o600); err != nil {
		return db, err
	}
	app := func(args ...string) error {
		return command(ctx, dir, appBin, append([]string{"--config", db.configPath}, args...)...)
	}
	logf("size %d, %s: create-db and seed %d albums, %d songs", size, b.name, albums, size)
	if err := app("create-db"); err != nil {
		return db, err
	}
	start := time.Now()
	if err := app("seed", "--albums", strconv.Itoa(albums), "--songs", strconv.Itoa(size)); err != nil {
		return db, err
	}
	db.seedTime = time.Since(start)
	db.password = randomHex(12)
	if err := app("create-admin", "--username", username, "--firstname", "Bench", "--lastname", "User",
		"--email", "bench@example.com", "--password", db.password); err != nil {
		return db, err
	}
	// create-token prints the token alone on stdout.
	out, err := commandOutput(ctx, dir, appBin, "--config", db.configPath, "create-token", "--username", username, "--name", "bench")
	if err != nil {
		return db, err
	}
	if db.token = strings.TrimSpace(out); db.token == "" || strings.ContainsAny(db.token, " \n") {
		return db, fmt.Errorf("create-token printed %q, not one token", out)
	}
	return db, nil
}

// drop drops the database on its server, if it was made, even when ctx
// is cancelled: an interrupted bench must not leave a million rows behind.
func (db database) drop(ctx context.Context) {
	if db.name == "" {
		return
	}
	if err := db.backend.drop(context.WithoutCancel(ctx), db.name); err != nil {
		logf("%s: drop database %s: %v", db.backend.name, db.name, err)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
