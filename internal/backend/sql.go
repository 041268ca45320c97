package backend

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"musicadmin/internal/accounts"
	"musicadmin/internal/audit"
	"musicadmin/internal/catalog"
	"musicadmin/internal/config"
	"musicadmin/internal/migrate"
	"musicadmin/internal/store"
)

// SQL is a backend on SQLite, MySQL or PostgreSQL, through GORM.
type SQL struct {
	driver   string
	db       *gorm.DB
	models   *catalog.Models
	accounts *store.Accounts
	audit    *store.AuditLog
	security accounts.Models
	schema   *migrate.Migrator
}

var _ Backend = (*SQL)(nil)

func openSQL(ctx context.Context, cfg config.Database) (*SQL, error) {
	db, err := store.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	b, err := NewSQL(db, cfg.Driver)
	if err != nil {
		if sqlDB, dbErr := db.DB(); dbErr == nil {
			_ = sqlDB.Close()
		}
		return nil, err
	}
	return b, nil
}

// NewSQL returns the backend over db, opened by store.Open for driver. Its
// Close closes db.
func NewSQL(db *gorm.DB, driver string) (*SQL, error) {
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("backend: %w", err)
	}
	m, err := migrate.New(sqlDB, driver)
	if err != nil {
		return nil, err
	}
	st := store.New(db)
	models, err := catalog.OnSQL(st)
	if err != nil {
		return nil, err
	}
	log, err := store.NewAuditLog(st)
	if err != nil {
		return nil, err
	}
	sec, err := declareAccounts(st)
	if err != nil {
		return nil, err
	}
	return &SQL{driver: driver, db: db, models: models, accounts: store.NewAccounts(db), audit: log, security: sec,
		schema: m}, nil
}

// DB is the GORM handle, for what only SQL does (app seed, tests).
func (b *SQL) DB() *gorm.DB { return b.db }

func (b *SQL) Driver() string                 { return b.driver }
func (b *SQL) Catalog() *catalog.Models       { return b.models }
func (b *SQL) Accounts() AccountStore         { return b.accounts }
func (b *SQL) Schema() Schema                 { return b.schema }
func (b *SQL) Audit() audit.Log               { return b.audit }
func (b *SQL) AccountModels() accounts.Models { return b.security }

func (b *SQL) Healthy(ctx context.Context) error { return store.Healthy(ctx, b.db) }

func (b *SQL) Close() error {
	sqlDB, err := b.db.DB()
	if err != nil {
		return fmt.Errorf("backend: close: %w", err)
	}
	return sqlDB.Close()
}

// declareAccounts declares users, roles and permissions on st, each over
// its table's GORM model.
func declareAccounts(st *store.Store) (accounts.Models, error) {
	var m accounts.Models
	var err error
	if m.Permissions, err = store.Declare[store.Permission](st, accounts.PermissionSchema); err != nil {
		return m, err
	}
	if m.Roles, err = store.Declare[store.Role](st, accounts.RoleSchema); err != nil {
		return m, err
	}
	m.Users, err = store.Declare[store.User](st, accounts.UserSchema)
	return m, err
}
