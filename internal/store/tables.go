package store

import (
	"fmt"

	"musicadmin/internal/datamodel"
)

// The tables of the models: a model declared on a Store is read and
// written through the GORM row type of its table (columns, foreign keys,
// the id GORM returns), which must match the migrations; the schema test
// holds them against each other. Adding a model to the app means a
// migration per dialect and a line here.
var tables = map[string]table{
	"album":       {declare: Declare[Album], searched: []string{"name"}},
	"song":        {declare: Declare[Song], searched: []string{"title"}},
	"permissions": {declare: Declare[Permission]},
	"roles":       {declare: Declare[Role]},
	"users":       {declare: Declare[User]},
	"tokens":      {declare: Declare[Token]},
	// The users' TOTP second factors (migration 00012).
	"second_factors": {declare: Declare[SecondFactor]},
	// The users' identities at OpenID providers (migration 00013).
	"identities": {declare: Declare[Identity]},
}

// table is how a model is kept in SQL.
type table struct {
	declare func(*Store, datamodel.Schema) (datamodel.Interface, error)
	// searched are the text fields whose substring search an index of
	// the migrations serves (docs/design.md, "Search index"): song titles at a
	// million rows (00002, 00003), album names as the song form's album
	// lookup types (00005).
	searched []string
}

// Album is the row of an album.
type Album struct {
	ID   int64  `gorm:"primaryKey"`
	Name string `gorm:"size:100;not null;uniqueIndex:ux_albums_name"`
}

// Song is the row of a song. Besides an index per column it has one per
// filter × sort of its list (filter first, migration 00005): a filtered
// page is then one range of an index, read in order; and one of every
// column in title order (migration 00011), which the export reads alone.
type Song struct {
	ID      int64  `gorm:"primaryKey"`
	Title   string `gorm:"size:200;not null;uniqueIndex:ux_songs_title;index:ix_songs_rating_title,priority:2;index:ix_songs_album_id_title,priority:2;index:ix_songs_title_rating_album_id,priority:1"`
	Rating  int    `gorm:"not null;default:0;index:ix_songs_rating;index:ix_songs_rating_title,priority:1;index:ix_songs_album_id_rating,priority:2;index:ix_songs_title_rating_album_id,priority:2"`
	AlbumID *int64 `gorm:"index:ix_songs_album_id;index:ix_songs_album_id_title,priority:1;index:ix_songs_album_id_rating,priority:1;index:ix_songs_title_rating_album_id,priority:3"`
	Album   *Album `gorm:"constraint:OnDelete:SET NULL"`
}

// Token is the row of an API token (migration 00010): its times are RFC
// 3339 text, as the accounts layer keeps them, and Digest the hex SHA-256
// of the token, the one thing stored of it.
type Token struct {
	ID         int64  `gorm:"primaryKey"`
	Name       string `gorm:"size:100;not null"`
	UserID     int64  `gorm:"not null;index:ix_tokens_user_id"`
	User       *User  `gorm:"constraint:OnDelete:CASCADE"`
	CreatedAt  string `gorm:"size:32;not null"`
	ExpiresAt  string `gorm:"size:32;not null;default:''"`
	LastUsedAt string `gorm:"size:32;not null;default:''"`
	Digest     string `gorm:"size:64;not null;uniqueIndex:ux_tokens_digest"`
}

// SecondFactor is the row of a user's TOTP second factor (migration
// 00012): Secret is the shared secret sealed with a key of the app's
// secret_key, Recovery the hex SHA-256 of each unused recovery code, space
// separated; EnrolledAt is "" until the first code confirms it.
type SecondFactor struct {
	ID         int64  `gorm:"primaryKey"`
	UserID     int64  `gorm:"not null;uniqueIndex:ux_second_factors_user_id"`
	User       *User  `gorm:"constraint:OnDelete:CASCADE"`
	EnrolledAt string `gorm:"size:32;not null;default:''"`
	LastStep   int64  `gorm:"not null;default:0"`
	Secret     string `gorm:"size:200;not null"`
	Recovery   string `gorm:"size:1000;not null;default:''"`
}

// Identity is the row of a user's identity at an OpenID provider
// (migration 00013): Digest is the hex SHA-256 of issuer and subject,
// unique.
type Identity struct {
	ID        int64  `gorm:"primaryKey"`
	UserID    int64  `gorm:"not null;index:ix_identities_user_id"`
	User      *User  `gorm:"constraint:OnDelete:CASCADE"`
	Issuer    string `gorm:"size:255;not null"`
	Subject   string `gorm:"size:255;not null"`
	Digest    string `gorm:"size:64;not null;uniqueIndex:ux_identities_digest"`
	CreatedAt string `gorm:"size:32;not null"`
}

var _ datamodel.Declarer = (*Store)(nil)

// Declare declares decl on s over its table, with the search indexes the
// migrations keep for it.
func (s *Store) Declare(decl datamodel.Schema) (datamodel.Interface, error) {
	t, ok := tables[decl.Name]
	if !ok {
		return nil, fmt.Errorf("store: no table for model %q (add its row type to tables.go, and a migration)", decl.Name)
	}
	m, err := t.declare(s, decl)
	if err != nil {
		return nil, err
	}
	for _, f := range t.searched {
		ix, ok := m.(interface{ IndexText(string) error })
		if !ok {
			return nil, fmt.Errorf("store: model %s: a searched field needs a plain model", decl.Name)
		}
		if err := ix.IndexText(f); err != nil {
			return nil, err
		}
	}
	return m, nil
}
