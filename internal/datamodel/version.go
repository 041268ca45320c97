package datamodel

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
)

// Version returns the version of rec: a digest of its stored values (each
// field's Kind.Store form, in declaration order; a reference by its id, not
// its label). An edit form carries it, and UpdateIf writes only while the
// record still has it, so a save never overwrites a change made since the
// form was loaded (a lost update).
//
// The version is the values themselves, not a counter that every write
// bumps, for three reasons. It needs no schema: the MongoDB documents keep
// the seed's shape ({_id, name}; {_id, title, rating, album}), which the
// contract fixes, and the SQL tables need no column. Every write changes it
// with no code of its own: app load, a bulk action, and the clearing of a
// song's album when the album is deleted (ON DELETE SET NULL on SQL, the
// store's own sweep on MongoDB), which a counter would miss unless a
// trigger bumped it. And it is the same on every backend, so a record's
// version survives app dump and load. What it does not see: a value
// changed and changed back between the load and the save (A→B→A). That is
// no conflict for the user, whose form was loaded showing exactly what is
// stored again, so nothing of theirs, nor of the other writer's final
// state, is lost.
func (s *Schema) Version(rec Record) string {
	h := sha256.New()
	for _, f := range s.Fields {
		if f.WriteOnly {
			continue // never read back: no record holds it
		}
		// A Hidden field is in it: a store reads it, so the version of a
		// record as read and as stored agree, and UpdateIf sees a change
		// of it. A digest of a digest tells a reader nothing of its value.
		writeString(h, f.Name)
		writeStored(h, f.Kind.Store(rec.Values[f.Name]))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// writeString writes s length-first, so that no two sequences of strings
// hash alike by running into each other.
func writeString(h hash.Hash, s string) {
	h.Write([]byte(strconv.Itoa(len(s)) + ":" + s))
}

// writeStored writes a stored value with its type, so that the text "1"
// and the number 1, or no value and the empty text, differ.
func writeStored(h hash.Hash, v any) {
	switch x := v.(type) {
	case nil:
		h.Write([]byte("n"))
	case string:
		h.Write([]byte("s"))
		writeString(h, x)
	case int64:
		h.Write([]byte("i" + strconv.FormatInt(x, 10) + ";"))
	case bool:
		h.Write([]byte("b" + strconv.FormatBool(x) + ";"))
	case []string:
		h.Write([]byte("a" + strconv.Itoa(len(x)) + ";"))
		for _, e := range x {
			writeString(h, e)
		}
	default:
		h.Write([]byte("?"))
		writeString(h, fmt.Sprintf("%T:%v", x, x))
	}
}

// Holds reports whether rec already holds every value of v, so that
// writing v over it would change nothing. UpdateIf lets such a write
// succeed whatever version it names, as it loses no one's change; and it
// is how a store tells a stale record from an unchanged one when its
// conditional write changed no row (MySQL counts only changed rows).
func (s *Schema) Holds(rec Record, v Values) bool {
	return s.Version(merged(rec, v)) == s.Version(rec)
}

// merged returns rec with v written over it.
func merged(rec Record, v Values) Record {
	out := Record{ID: rec.ID, Values: make(map[string]any, len(rec.Values))}
	for k, val := range rec.Values {
		out.Values[k] = val
	}
	for k, val := range v {
		out.Values[k] = val
	}
	return out
}
