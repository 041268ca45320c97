package datamodel

import (
	"fmt"
	"slices"
	"testing"
)

func TestBool(t *testing.T) {
	k := Bool{}
	for text, want := range map[string]bool{"true": true, "on": true, "YES": true, "1": true, "false": false, "0": false, "No": false} {
		if v, err := k.Parse(text); err != nil || v != want {
			t.Errorf("parse %q: %v %v", text, v, err)
		}
	}
	if _, err := k.Parse("maybe"); err == nil || err.Error() != "Must be yes or no." {
		t.Errorf("parse maybe: %v", err)
	}
	if k.Empty() != false || k.Text(true) != "Yes" || k.Text(false) != "No" || k.Edit(true) != "true" || k.Input().Type != "checkbox" {
		t.Error("bool empty, text, edit or input")
	}
	for _, raw := range []any{true, int64(1), int32(1), []byte("1"), "t", "true"} {
		if v, err := k.Load(raw); err != nil || v != true {
			t.Errorf("load %T %v: %v %v", raw, raw, v, err)
		}
	}
	for _, raw := range []any{false, int64(0), nil, "f", []byte("0")} {
		if v, err := k.Load(raw); err != nil || v != false {
			t.Errorf("load %T %v: %v %v", raw, raw, v, err)
		}
	}
	if _, err := k.Load(1.5); err == nil {
		t.Error("bool loaded 1.5")
	}
	if (Bool{DefaultOn: true}).Default() != true || (Bool{DefaultOn: true}).Empty() != false || k.Default() != false {
		t.Error("a bool's default or empty value")
	}
}

func TestEmailText(t *testing.T) {
	k := Text{MaxRunes: 254, Email: true}
	if v, err := k.Parse("ada@example.com"); err != nil || v != "ada@example.com" {
		t.Errorf("good address: %v %v", v, err)
	}
	for _, bad := range []string{"ada", "Ada <ada@example.com>", "ada@", "@example.com", "a b@example.com"} {
		if _, err := k.Parse(bad); err == nil {
			t.Errorf("%q taken as an address", bad)
		}
	}
	if k.Input().Type != "email" {
		t.Error("email input")
	}
}

func TestSet(t *testing.T) {
	k := Set{Of: "role"}
	v, err := k.ParseAll([]string{"b", "a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	refs := v.([]Ref)
	if len(refs) != 2 || refs[0].ID != "b" || refs[1].ID != "a" {
		t.Errorf("parse all: %v", refs)
	}
	if got := k.Store(v); !slices.Equal(got.([]string), []string{"a", "b"}) {
		t.Errorf("store: %v", got)
	}
	if k.Edit(v) != "a\nb" || k.Edit(k.Empty()) != "" {
		t.Errorf("edit: %q", k.Edit(v))
	}
	if got := k.Text([]Ref{{ID: "1", Label: "Admin"}, {ID: "2", Label: "ReadOnly"}}); got != "Admin, ReadOnly" {
		t.Errorf("text: %q", got)
	}
	if !slices.Equal(k.Ops(), []Op{OpEq}) || k.Input().Type != "set" {
		t.Errorf("set ops %v or input %v: want only eq (holds) and a set input", k.Ops(), k.Input())
	}
	if Held([]Ref{{ID: "7"}}) != "7" || Held(nil) != "" {
		t.Error("held: the option of a set's filter")
	}
	for _, raw := range []any{nil, []string{"x"}, []any{"x"}} {
		if _, err := k.Load(raw); err != nil {
			t.Errorf("load %T: %v", raw, err)
		}
	}
	f := Field{Name: "roles", Kind: k}
	if f.SetOf() != "role" || f.Target() != "" {
		t.Error("a set field is not a reference")
	}
	s := Schema{Name: "user", Label: "name", Fields: []Field{{Name: "name", Kind: Text{}}, f}}
	a := Record{Values: map[string]any{"name": "x", "roles": []Ref{{ID: "1"}, {ID: "2"}}}}
	b := Record{Values: map[string]any{"name": "x", "roles": []Ref{{ID: "2", Label: "R"}, {ID: "1"}}}}
	c := Record{Values: map[string]any{"name": "x", "roles": []Ref{{ID: "1"}}}}
	if s.Version(a) != s.Version(b) || s.Version(a) == s.Version(c) {
		t.Error("a set's version depends on its order or labels, or not on its members")
	}
}

func TestPassword(t *testing.T) {
	k := Password{MaxBytes: 72}
	v, err := k.Parse("  spaced  ")
	if err != nil || v != Secret("  spaced  ") {
		t.Errorf("parse keeps the text as typed: %v %v", v, err)
	}
	if fmt.Sprint(v) == "  spaced  " || fmt.Sprintf("%v %s %#v", v, v, v) != "******** ******** ********" {
		t.Errorf("a secret prints: %v %s %#v", v, v, v)
	}
	if err := k.Validate(Secret(string(make([]byte, 73)))); err == nil {
		t.Error("73 bytes taken")
	}
	if err := k.Validate(Secret("")); err == nil {
		t.Error("empty password taken")
	}
	if k.Text(Secret("x")) != "" || k.Edit(Secret("x")) != "" || k.Store(Secret("x")) != nil || k.Store(Hash("h")) != Hash("h") {
		t.Error("a password shows or stores its clear text")
	}
	s := Schema{Name: "user", Label: "name", Fields: []Field{{Name: "name", Kind: Text{}}, {Name: "password", Kind: k, WriteOnly: true}}}
	if s.Version(Record{Values: map[string]any{"name": "x"}}) != s.Version(Record{Values: map[string]any{"name": "x", "password": Hash("h")}}) {
		t.Error("a write-only field is part of the version")
	}
	if len(s.Readable()) != 1 {
		t.Error("readable fields hold the password")
	}
	bad := Schema{Name: "user", Label: "password", Fields: s.Fields}
	if bad.Check() == nil {
		t.Error("a write-only label")
	}
}
