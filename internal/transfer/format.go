// Package transfer moves every record of a database into another one of any
// backend: app dump writes them as JSON Lines, app load reads them into an
// empty database, app copy does both.
//
// The file is one JSON object per line. The first line says what it is:
//
//	{"format":"musicadmin-dump","version":1}
//
// Every other line is one record: its model, its id in the database it was
// dumped from, and its fields.
//
//	{"model":"role","id":"1","fields":{"name":"Admin"}}
//	{"model":"user","id":"1","fields":{"username":"ada","first_name":"Ada","last_name":"Lovelace",
//	    "email":"ada@example.com","password_hash":"$2a$12$…","active":true,"roles":["1"],
//	    "created_at":"2026-01-02T03:04:05Z"}}
//	{"model":"album","id":"7","fields":{"name":"Blue Train"}}
//	{"model":"song","id":"12","fields":{"album":"7","rating":5,"title":"Moment's Notice"}}
//
// The last line closes the file and counts its records, so that a file cut
// short (a full disk, a dump killed midway, a copy interrupted) is refused
// instead of loaded as a smaller database:
//
//	{"end":true,"records":5}
//
// Records come in dependency order (roles, users, then the catalogue's
// models as catalog.Models.All lists them), and a reference holds the id of
// a record on an earlier line: a user's roles, a song's album (null for
// none). Ids are the source's and are not kept: SQL's are digits and
// MongoDB's ObjectIds, so load gives every record a new id and maps the
// references to it. A catalogue field holds its kind's stored value (text,
// a whole number, an id or null). Sessions are not dumped: they are logins
// to one deployment, and after a load everyone logs in again. A model
// added later (the audit log) is one more kind of line and a new version.
package transfer

import (
	"encoding/json"
	"time"
)

// Format and Version name the file's layout in its first line. Load reads
// only this version.
const (
	Format  = "musicadmin-dump"
	Version = 1
)

// The models of the accounts, as lines name them; the catalogue's models go
// by their schema's name.
const (
	modelRole = "role"
	modelUser = "user"
)

// maxLine bounds a line of the file. A record's longest field is a 200
// character title (800 bytes of UTF-8, 1,200 escaped): a longer line is
// not a record of ours.
const maxLine = 1 << 20

// header is the first line.
type header struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
}

// trailer is the last line.
type trailer struct {
	End     bool `json:"end"`
	Records int  `json:"records"`
}

// record is every line between. Fields is decoded by the model's own rules.
type record struct {
	Model  string          `json:"model"`
	ID     string          `json:"id"`
	Fields json.RawMessage `json:"fields"`
}

// roleFields are the fields of a role.
type roleFields struct {
	Name string `json:"name"`
}

// userFields are the fields of a user: auth.Account, with its roles as
// the source's role ids.
type userFields struct {
	Username     string    `json:"username"`
	FirstName    string    `json:"first_name"`
	LastName     string    `json:"last_name"`
	Email        string    `json:"email"`
	PasswordHash string    `json:"password_hash"`
	Active       *bool     `json:"active"`
	Roles        []string  `json:"roles"`
	CreatedAt    time.Time `json:"created_at"`
}
