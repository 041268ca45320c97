// Package catalog is the music catalogue: the Album and Song models and the
// declarations that turn them into admin views.
package catalog

// Album is a named collection of songs.
type Album struct {
	ID   int64  `gorm:"primaryKey"`
	Name string `gorm:"size:100;not null;uniqueIndex:ux_albums_name"`
}

// Song is a rated song, optionally on an album. Besides an index per
// column it has one per filter × sort of its list (filter first, migration
// 00005): a filtered page is then one range of an index, read in order.
type Song struct {
	ID      int64  `gorm:"primaryKey"`
	Title   string `gorm:"size:200;not null;uniqueIndex:ux_songs_title;index:ix_songs_rating_title,priority:2;index:ix_songs_album_id_title,priority:2"`
	Rating  int    `gorm:"not null;default:0;index:ix_songs_rating;index:ix_songs_rating_title,priority:1;index:ix_songs_album_id_rating,priority:2"`
	AlbumID *int64 `gorm:"index:ix_songs_album_id;index:ix_songs_album_id_title,priority:1;index:ix_songs_album_id_rating,priority:1"`
	Album   *Album `gorm:"constraint:OnDelete:SET NULL"`
}
