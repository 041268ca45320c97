// Package transfer moves every record of a database into another one of any
// backend: app dump writes them as JSON Lines, app load reads them into an
// empty database, app copy does both.
//
// The file is one JSON object per line, in UTF-8 (load refuses a line of
// other bytes rather than read them as U+FFFD). The first line says what
// it is:
//
//	{"format":"musicadmin-dump","version":2}
//
// Every other line is one record: its model, its id in the database it was
// dumped from, and its fields.
//
//	{"model":"role","id":"1","fields":{"name":"Admin","permissions":["can_add:albumview",…]}}
//	{"model":"user","id":"1","fields":{"username":"ada","first_name":"Ada","last_name":"Lovelace",
//	    "email":"ada@example.com","password_hash":"$2a$12$…","active":true,"roles":["1"],
//	    "created_at":"2026-01-02T03:04:05Z"}}
//	{"model":"tokens","id":"3","fields":{"name":"ci","user":"1","created_at":"2026-01-02T03:04:05Z",
//	    "expires_at":"","last_used_at":"","digest":"9f86d0…"}}
//	{"model":"second_factors","id":"2","fields":{"user":"1","enrolled_at":"2026-01-02T03:04:05Z",
//	    "last_step":59366401,"secret":"v1:…","recovery":"5e884898… 6b86b273…"}}
//	{"model":"album","id":"7","fields":{"name":"Blue Train"}}
//	{"model":"song","id":"12","fields":{"album":"7","rating":5,"title":"Moment's Notice"}}
//	{"model":"audit_entry","id":"40","fields":{"at":"2026-01-02T03:04:05.123456Z","username":"ada",
//	    "action":"update","view_name":"songsview","record_id":"12","record_label":"Moment's Notice",
//	    "changes":[{"field":"rating","old":"4","new":"5"}]}}
//
// The last line closes the file and counts its records, so that a file cut
// short (a full disk, a dump killed midway, a copy interrupted) is refused
// instead of loaded as a smaller database:
//
//	{"end":true,"records":5}
//
// Records come in dependency order (roles, users, the users' API tokens
// and second factors, the catalogue's models as catalog.Models.All lists
// them, then the audit log, oldest entry first), and a reference holds the
// id of a record on an earlier line: a user's roles, a token's user, a
// song's album (null for none). A token is its fields as stored, its
// digest (a Hidden field) included, so that a token made on the source
// works on the target; the token itself is in no database and no file. A
// second factor is its fields as stored too: the TOTP key sealed with a
// key of secret_key (it works on a target with the same secret_key), the
// recovery codes hashed. Ids are the source's and are not kept: SQL's are digits and MongoDB's ObjectIds, so load gives every
// record a new id and maps the references to it. A catalogue field holds
// its kind's stored value (text, a whole number, an id or null). A
// password_hash is a bcrypt hash, as stored: load refuses anything else,
// which could be a password in clear. Sessions are not dumped: they are
// logins to one deployment, and after a load everyone logs in again. Nor
// are the login throttle's recent failures, which only count the last
// minutes.
//
// A role's permissions are "action:view" keys (access.Permission.Key),
// sorted. Load matches roles by name, the built-in ones create-db made
// included, and the file decides what a role holds on every view it names
// (any permission of any role naming it): there the role gets exactly the
// file's permissions, and loses the target's others (a permission the
// source's Admin took away from ReadOnly stays away). On a view the file
// never names (the target app has it, the source app had not) a role keeps
// what the target gave it. A permission of a view the target app does not
// have is kept: it allows nothing there, and a later dump still carries it.
//
// An audit entry keeps its time (UTC, to the microsecond), user, action,
// view, record label and changes. Its record id, and the id of a reference
// in its changes ("Blue Train (7)"), name a record of the source; load
// maps them to the new id of that record (for the views of the catalogue
// and of users and roles), so that each record's history page still lists
// its entries. A record the file does not hold (deleted before the dump)
// has no new id: its id is kept as "deleted:7", which no backend gives a
// record, so that its entries are never taken for the history of the
// record the target gives id 7. Entries of other views, and the rest, are
// kept as they are. The load itself writes no entry: it is nobody's change.
//
// Version 1 (before roles held permissions and the app kept an audit log)
// has no permissions and no audit entries; load reads it still, and the
// roles keep what the target's create-db gave them.
package transfer

import (
	"encoding/json"
	"time"

	"musicadmin/internal/audit"
)

// Format and Version name the file's layout in its first line. Dump writes
// Version; load reads it and every version since MinVersion.
const (
	Format     = "musicadmin-dump"
	Version    = 2
	MinVersion = 1
)

// The models of the accounts and of the audit log, as lines name them; the
// catalogue's models go by their schema's name.
const (
	modelRole  = "role"
	modelUser  = "user"
	modelAudit = "audit_entry"
)

// deletedPrefix marks the id, in an audit entry, of a record the dump did
// not hold: a source id that names nothing in the loaded database.
const deletedPrefix = "deleted:"

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

// roleFields are the fields of a role. Permissions is nil in a version 1
// file, which has none, and never nil in a later one.
type roleFields struct {
	Name        string    `json:"name"`
	Permissions *[]string `json:"permissions,omitempty"`
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
	// Language and TimeZone are the user's own settings, left out when
	// none is chosen (a file of before has none).
	Language string `json:"language,omitempty"`
	TimeZone string `json:"time_zone,omitempty"`
}

// auditFields are the fields of an audit entry, named as audit.Schema
// names them; At is in audit.FormatTime's layout, the one the stores keep.
type auditFields struct {
	At          string          `json:"at"`
	Username    string          `json:"username"`
	Action      string          `json:"action"`
	View        string          `json:"view_name"`
	RecordID    string          `json:"record_id"`
	RecordLabel string          `json:"record_label"`
	Changes     *[]audit.Change `json:"changes"`
}
