package auth

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gorilla/securecookie"
)

// cookieSerializer writes the session cookie's values as a JSON object.
// gorilla's default, encoding/gob, builds a decoder and compiles the
// map's type anew for every cookie it reads: the one costly step of
// reading a session on every request (5% of a list page's time). The
// values are few and flat (the login token, the CSRF token, the queued
// flash messages), so JSON holds them exactly. A cookie written before
// the switch, in gob, is still read, so an upgrade logs nobody out.
type cookieSerializer struct{}

var _ securecookie.Serializer = cookieSerializer{}

// Serialize implements securecookie.Serializer for the session's values,
// a map[any]any whose keys are strings.
func (cookieSerializer) Serialize(src any) ([]byte, error) {
	values, ok := src.(map[any]any)
	if !ok {
		return nil, fmt.Errorf("auth: session values are %T, not map[any]any", src)
	}
	flat := make(map[string]any, len(values))
	for k, v := range values {
		key, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("auth: session key %v is %T, not string", k, k)
		}
		flat[key] = v
	}
	return json.Marshal(flat)
}

// Deserialize implements securecookie.Serializer: a JSON object, or a
// cookie of before in gob.
func (cookieSerializer) Deserialize(src []byte, dst any) error {
	if len(src) == 0 || src[0] != '{' {
		return securecookie.GobEncoder{}.Deserialize(src, dst)
	}
	values, ok := dst.(*map[any]any)
	if !ok {
		return errors.New("auth: session values must decode into *map[any]any")
	}
	var flat map[string]any
	if err := json.Unmarshal(src, &flat); err != nil {
		return fmt.Errorf("auth: session cookie: %w", err)
	}
	out := make(map[any]any, len(flat))
	for k, v := range flat {
		out[k] = v
	}
	*values = out
	return nil
}
