// Package catalog is the music catalogue: the Album and Song models, and
// the declarations that turn them into admin views. It declares; the
// stores keep.
package catalog

import (
	"context"

	"musicadmin/internal/admin"
	"musicadmin/internal/datamodel"
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

// Models are the catalogue's models on one backend, in dependency order
// (a model refers only to models before it).
type Models struct {
	Albums datamodel.Interface
	Songs  datamodel.Interface
}

// All returns the models in dependency order: the order to write them in
// when records refer to each other (app load).
func (m *Models) All() []datamodel.Interface { return []datamodel.Interface{m.Albums, m.Songs} }

// Declare declares the catalogue's models on d (on MongoDB the
// collections album and song, as the seed named them).
func Declare(d datamodel.Declarer) (*Models, error) {
	albums, err := d.Declare(AlbumSchema)
	if err != nil {
		return nil, err
	}
	songs, err := d.Declare(SongSchema)
	if err != nil {
		return nil, err
	}
	return &Models{Albums: albums, Songs: songs}, nil
}

// textIndexed is a model that keeps search indexes it can compact.
type textIndexed interface {
	OptimizeTextIndexes(ctx context.Context) error
}

// OptimizeSearch compacts the search indexes after a bulk load (app seed,
// app load); on a backend without such indexes it does nothing.
func (m *Models) OptimizeSearch(ctx context.Context) error {
	for _, model := range m.All() {
		if ti, ok := model.(textIndexed); ok {
			if err := ti.OptimizeTextIndexes(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// Views declares the admin views of the catalogue on m: this is the whole
// cost of a model in the admin.
func Views(m *Models) []*admin.ModelView {
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
	return []*admin.ModelView{albumView, songView}
}

// Charts declares the catalogue's charts over its views (from Views):
// songs per rating, and the song count and average rating of the 20
// albums with the most songs.
func Charts(views []*admin.ModelView) []*admin.Chart {
	var songs *admin.ModelView
	for _, v := range views {
		if v.Name == "songsview" {
			songs = v
		}
	}
	return []*admin.Chart{
		{Name: "songs-by-rating", Title: "Songs by Rating", View: songs, By: "rating", ByKey: true, Kind: "column",
			Series: []admin.ChartSeries{{Agg: datamodel.AggCount, Label: "Songs"}}},
		{Name: "albums-by-rating", Title: "Albums by Rating", View: songs, By: "album", Top: 20, Kind: "bar",
			Series: []admin.ChartSeries{{Agg: datamodel.AggCount, Label: "Songs"},
				{Agg: datamodel.AggAvg, Field: "rating", Label: "Average rating"}}},
	}
}
