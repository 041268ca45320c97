// Package catalog is the music catalogue: the Album and Song models and the
// declarations that turn them into admin views.
package catalog

// Album is a named collection of songs.
type Album struct {
	ID   int64  `gorm:"primaryKey"`
	Name string `gorm:"size:100;not null;uniqueIndex:ux_albums_name"`
}

// Song is a rated song, optionally on an album.
type Song struct {
	ID      int64  `gorm:"primaryKey"`
	Title   string `gorm:"size:200;not null;uniqueIndex:ux_songs_title"`
	Rating  int    `gorm:"not null;default:0;index:ix_songs_rating"`
	AlbumID *int64 `gorm:"index:ix_songs_album_id"`
	Album   *Album `gorm:"constraint:OnDelete:SET NULL"`
}
