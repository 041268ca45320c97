package catalog

import (
	"context"

	"musicadmin/internal/admin"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/store"
)

// Schemas of the catalogue: each model stated once, its label included.
var (
	AlbumSchema = datamodel.Schema{Name: "album", Label: "name", Fields: []datamodel.Field{
		{Name: "name", Label: "Name", Kind: datamodel.Text{MaxRunes: 100}, Required: true, Unique: true},
	}}
	SongSchema = datamodel.Schema{Name: "song", Label: "title", Fields: []datamodel.Field{
		{Name: "title", Label: "Title", Kind: datamodel.Text{MaxRunes: 200}, Required: true, Unique: true},
		{Name: "rating", Label: "Rating", Kind: datamodel.Int{Min: 0, Max: 9, Default: 0}},
		{Name: "album", Label: "Album", Kind: datamodel.Reference{Model: "album"}},
	}}
)

// Models are the catalogue's models on one store.
type Models struct {
	Albums *store.Model[Album]
	Songs  *store.Model[Song]
}

// Declare declares the catalogue's models on st.
func Declare(st *store.Store) (*Models, error) {
	albums, err := store.NewModel[Album](st, AlbumSchema)
	if err != nil {
		return nil, err
	}
	songs, err := store.NewModel[Song](st, SongSchema)
	if err != nil {
		return nil, err
	}
	// Song titles are searched at a million rows: migration 00002 keeps
	// their trigram index. Album names (thousands) are scanned.
	if err := songs.IndexText("title"); err != nil {
		return nil, err
	}
	return &Models{Albums: albums, Songs: songs}, nil
}

// OptimizeSearch compacts the search indexes after a bulk load (app seed).
func (m *Models) OptimizeSearch(ctx context.Context) error {
	return m.Songs.OptimizeTextIndexes(ctx)
}

// Views declares the admin views of the catalogue on st: this is the whole
// cost of a model in the admin.
func Views(st *store.Store) ([]*admin.ModelView, error) {
	m, err := Declare(st)
	if err != nil {
		return nil, err
	}
	songView := &admin.ModelView{
		Name: "songsview", Title: "Song View", Category: "Model Views", Singular: "Song", Data: m.Songs,
		ListColumns: []string{"title", "rating", "album"}, SearchColumns: []string{"title"},
		OrderColumns: []string{"title", "rating"}, DefaultSort: "title",
	}
	albumView := &admin.ModelView{
		Name: "albumview", Title: "Album View", Category: "Model Views", Singular: "Album", Data: m.Albums,
		ListColumns: []string{"name"}, SearchColumns: []string{"name"}, OrderColumns: []string{"name"},
		DefaultSort: "name",
		Related:     []admin.Related{{View: songView, Field: "album"}},
	}
	return []*admin.ModelView{albumView, songView}, nil
}
