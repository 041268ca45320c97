package catalog

import (
	"context"

	"gorm.io/gorm"

	"musicadmin/internal/admin"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/store"
)

const songSearchColumn = "title"

// OptimizeSearch compacts the search indexes after a bulk load (app seed).
func OptimizeSearch(ctx context.Context, db *gorm.DB) error {
	return store.OptimizeTextIndex(ctx, db, "songs", songSearchColumn)
}

// Views declares the admin views of the catalogue: this is the whole cost of
// a model in the admin.
func Views(db *gorm.DB) ([]*admin.ModelView, error) {
	albums, err := store.NewModel[Album](db, "name",
		datamodel.Field{Name: "name", Column: "name", Label: "Name", Kind: datamodel.KindText,
			Required: true, Unique: true, MaxRunes: 100},
	)
	if err != nil {
		return nil, err
	}
	songs, err := store.NewModel[Song](db, "title",
		datamodel.Field{Name: "title", Column: "title", Label: "Title", Kind: datamodel.KindText,
			Required: true, Unique: true, MaxRunes: 200},
		datamodel.Field{Name: "rating", Column: "rating", Label: "Rating", Kind: datamodel.KindInt,
			Min: 0, Max: 9, Default: 0},
		datamodel.Field{Name: "album", Column: "album_id", Label: "Album", Kind: datamodel.KindRef,
			Ref: &datamodel.Relation{Model: albums, Table: albums.Table(), LabelColumn: "name"}},
	)
	if err != nil {
		return nil, err
	}
	// Song titles are searched at a million rows: migration 00002 keeps
	// their trigram index. Album names (thousands) are scanned.
	if err := songs.IndexText(songSearchColumn); err != nil {
		return nil, err
	}
	songView := &admin.ModelView{
		Name: "songsview", Title: "Song View", Category: "Model Views", Singular: "Song", Data: songs,
		ListColumns: []string{"title", "rating", "album"}, SearchColumns: []string{"title"},
		OrderColumns: []string{"title", "rating"}, DefaultSort: "title",
	}
	albumView := &admin.ModelView{
		Name: "albumview", Title: "Album View", Category: "Model Views", Singular: "Album", Data: albums,
		ListColumns: []string{"name"}, SearchColumns: []string{"name"}, OrderColumns: []string{"name"},
		DefaultSort: "name",
		Related:     []admin.Related{{View: songView, Field: "album"}},
	}
	return []*admin.ModelView{albumView, songView}, nil
}
