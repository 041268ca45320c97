// Package app assembles the app, in one place: it opens the configured
// database (backend), declares the catalogue and the accounts on it, and
// builds the server and the accounts layer the command line uses. The
// declarations (catalog, accounts) never import a store, and the backend
// declares nothing of its own accord.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"musicadmin/internal/accounts"
	"musicadmin/internal/auth"
	"musicadmin/internal/backend"
	"musicadmin/internal/catalog"
	"musicadmin/internal/config"
	"musicadmin/internal/security"
	"musicadmin/internal/server"
)

// App is an open database with the app's models declared on it.
type App struct {
	backend.Backend
	catalog  *catalog.Models
	accounts accounts.Models
}

var _ server.Data = (*App)(nil)

// Open connects to the database cfg names and declares the models on it.
// It does not create or check the schema (see backend.Ready).
func Open(ctx context.Context, cfg config.Database) (*App, error) {
	b, err := backend.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	a, err := Declare(ctx, b)
	if err != nil {
		return nil, errors.Join(err, b.Close())
	}
	return a, nil
}

// Declare declares the app's models on b, opened elsewhere (a test's
// handle), and settles what a process that died left half done. The App
// closes b.
func Declare(ctx context.Context, b backend.Backend) (*App, error) {
	cat, err := catalog.Declare(b)
	if err != nil {
		return nil, fmt.Errorf("declare the catalogue: %w", err)
	}
	acc, err := accounts.Declare(b)
	if err != nil {
		return nil, fmt.Errorf("declare the accounts: %w", err)
	}
	if err := b.Settle(ctx); err != nil {
		return nil, err
	}
	return &App{Backend: b, catalog: cat, accounts: acc}, nil
}

// Catalog is the catalogue's models.
func (a *App) Catalog() *catalog.Models { return a.catalog }

// AccountModels are users, roles, permissions and tokens as declared, without
// the accounts' rules (see Security).
func (a *App) AccountModels() accounts.Models { return a.accounts }

// Security returns the accounts layer over a's models, with passwords
// hashed by hasher (nil where none is written).
func (a *App) Security(hasher *auth.Users) (*security.Service, error) {
	return security.NewService(a.accounts, a.Accounts(), a.Audit(), hasher)
}

// Server builds the web application over a, which must be at the latest
// schema.
func (a *App) Server(cfg config.Config, log *slog.Logger, opts server.Options) (*server.App, error) {
	return server.New(cfg, a, log, opts)
}

// SyncPermissions creates the permissions of every view and the built-in
// roles, as every start of the server does too.
func (a *App) SyncPermissions(ctx context.Context) error { return server.SyncPermissions(ctx, a) }
