package store_test

import (
	"testing"

	"musicadmin/internal/apptest"
	"musicadmin/internal/catalog"
	"musicadmin/internal/datamodel/modeltest"
	"musicadmin/internal/store"
)

// TestUpdateIf checks the conditional write on every SQL dialect, races
// between its check and its write included.
func TestUpdateIf(t *testing.T) {
	apptest.ForEachSQLBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		db, _ := apptest.OpenMigrated(t, b)
		st := store.New(db)
		models, err := catalog.Declare(st)
		if err != nil {
			t.Fatal(err)
		}
		modeltest.UpdateIf(t, models.Albums, models.Songs, func(f func()) { store.SetChecked(st, f) })
	})
}

// TestGroup runs the seam's grouping checks on every SQL dialect.
func TestGroup(t *testing.T) {
	apptest.ForEachSQLBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		db, _ := apptest.OpenMigrated(t, b)
		models, err := catalog.Declare(store.New(db))
		if err != nil {
			t.Fatal(err)
		}
		modeltest.Group(t, models.Albums, models.Songs)
	})
}
