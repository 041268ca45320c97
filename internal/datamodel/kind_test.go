package datamodel

import (
	"testing"
)

// TestKinds checks each kind's whole behaviour in one table: parsing form
// text, validating, showing, editing, and reading what backends return.
func TestKinds(t *testing.T) {
	text := Text{MaxRunes: 3}
	if v, err := text.Parse("héé"); err != nil || v != "héé" || text.Validate(v) != nil {
		t.Errorf("text of 3 characters (5 bytes): %v %v %v", v, err, text.Validate(v))
	}
	if err := text.Validate("abcd"); err == nil || err.Error() != "Must be at most 3 characters." {
		t.Errorf("text too long: %v", err)
	}
	if text.Empty() != "" || text.Text("x") != "x" || text.Edit("x") != "x" || text.Input() != (Input{Type: "text", MaxLength: 3}) {
		t.Error("text empty, text, edit or input")
	}
	for _, raw := range []any{"x", []byte("x")} {
		if v, err := text.Load(raw); err != nil || v != "x" {
			t.Errorf("text load %T: %v %v", raw, v, err)
		}
	}
	if _, err := text.Load(int64(1)); err == nil {
		t.Error("text loaded a number")
	}

	rating := Int{Min: 0, Max: 9, Default: 0}
	for _, bad := range []string{"ten", "5.5", "0x10", "1e3", "99999999999999999999"} {
		if _, err := rating.Parse(bad); err == nil || err.Error() != "Must be a whole number from 0 to 9." {
			t.Errorf("int parse %q: %v", bad, err)
		}
	}
	if v, err := rating.Parse("-1"); err != nil || rating.Validate(v) == nil {
		t.Errorf("int out of range: %v %v", v, err)
	}
	if v, err := rating.Parse("7"); err != nil || v != int64(7) || rating.Validate(v) != nil {
		t.Errorf("int 7: %v %v", v, err)
	}
	if err := (Int{}).Validate(int64(-5)); err != nil {
		t.Errorf("int without a range refused -5: %v", err)
	}
	if _, err := (Int{}).Parse("x"); err == nil || err.Error() != "Must be a whole number." {
		t.Errorf("int without a range: %v", err)
	}
	if rating.Empty() != int64(0) || rating.Text(int64(7)) != "7" || rating.Edit(int64(7)) != "7" ||
		rating.Input() != (Input{Type: "number", Min: 0, Max: 9}) {
		t.Error("int empty, text, edit or input")
	}
	for _, raw := range []any{int64(7), int32(7), 7, float64(7), []byte("7"), "7"} {
		if v, err := rating.Load(raw); err != nil || v != int64(7) {
			t.Errorf("int load %T: %v %v", raw, v, err)
		}
	}
	if _, err := rating.Load(7.5); err == nil {
		t.Error("int loaded 7.5")
	}

	album := Reference{Model: "album"}
	v, err := album.Parse("42")
	if ref, _ := v.(*Ref); err != nil || ref == nil || ref.ID != "42" {
		t.Errorf("reference parse: %v %v", v, err)
	}
	ref := &Ref{ID: "42", Label: "Abbey Road"}
	if album.Text(ref) != "Abbey Road" || album.Edit(ref) != "42" || album.Store(ref) != "42" {
		t.Error("reference text, edit or store")
	}
	if album.Text(album.Empty()) != "" || album.Edit(album.Empty()) != "" || album.Store(album.Empty()) != nil {
		t.Error("no reference")
	}
	for _, raw := range []any{int64(42), "42", []byte("42")} {
		if v, err := album.Load(raw); err != nil || v.(*Ref).ID != "42" {
			t.Errorf("reference load %T: %v %v", raw, v, err)
		}
	}
	if v, err := album.Load(nil); err != nil || v.(*Ref) != nil {
		t.Errorf("reference load nil: %v %v", v, err)
	}
	f := Field{Name: "album", Kind: album}
	if f.Target() != "album" || (&Field{Kind: text}).Target() != "" {
		t.Error("Target")
	}
	for k, ops := range map[Kind][]Op{text: {OpContains, OpEq}, rating: {OpGte, OpNe}, album: {OpEq, OpEmpty}} {
		for _, op := range ops {
			if !Allows(k, op) {
				t.Errorf("%T refuses %s", k, op)
			}
		}
	}
	if Allows(rating, OpContains) || Allows(album, OpGt) || Allows(text, OpEmpty) {
		t.Error("an operator allowed on the wrong kind")
	}
}
