package memstore_test

import (
	"testing"

	"musicadmin/internal/catalog"
	"musicadmin/internal/datamodel/modeltest"
	"musicadmin/internal/memstore"
)

// TestUpdateIf checks the conditional write; the store's lock leaves no
// window between its check and its write to race in.
func TestUpdateIf(t *testing.T) {
	st := memstore.New()
	albums, err := st.Declare(catalog.AlbumSchema)
	if err != nil {
		t.Fatal(err)
	}
	songs, err := st.Declare(catalog.SongSchema)
	if err != nil {
		t.Fatal(err)
	}
	modeltest.UpdateIf(t, albums, songs, nil)
}

// TestGroup runs the seam's grouping checks on the memory store.
func TestGroup(t *testing.T) {
	st := memstore.New()
	albums, err := st.Declare(catalog.AlbumSchema)
	if err != nil {
		t.Fatal(err)
	}
	songs, err := st.Declare(catalog.SongSchema)
	if err != nil {
		t.Fatal(err)
	}
	modeltest.Group(t, albums, songs)
}
