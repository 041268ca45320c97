package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// APIToken returns a new API token of the user named username, made
// through the accounts layer as create-token makes one.
func (a *App) APIToken(t testing.TB, username string) string {
	t.Helper()
	ctx := context.Background()
	sec, err := a.Data.Security(nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := sec.UserByName(ctx, username)
	if err != nil {
		t.Fatalf("token of %s: %v", username, err)
	}
	plain, _, err := sec.Tokens.Create(ctx, u.ID, "test", time.Time{})
	if err != nil {
		t.Fatalf("token of %s: %v", username, err)
	}
	return plain
}

// APIClient calls the JSON API with a token.
type APIClient struct {
	site  *Site
	Token string
}

// API returns a client of a's JSON API signing in with token ("" for none).
func (a *App) API(token string) *APIClient { return &APIClient{site: a.Site, Token: token} }

// APIResponse is an answer of the API: its status, headers, body, and the
// body decoded as a JSON object (nil when it is not one).
type APIResponse struct {
	Status int
	Header http.Header
	Body   string
	JSON   map[string]any
}

// Do sends method to path with body (a string is sent as is, anything
// else as JSON; nil: no body) and the headers given as name, value pairs
// (Content-Type defaults to application/json when there is a body).
func (c *APIClient) Do(t testing.TB, method, path string, body any, headers ...string) *APIResponse {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.site.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	// Redirects are not followed: a page's redirect to the login is an answer.
	hc := &http.Client{Transport: c.site.Server.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read: %v", method, path, err)
	}
	r := &APIResponse{Status: res.StatusCode, Header: res.Header, Body: string(raw)}
	_ = json.Unmarshal(raw, &r.JSON)
	return r
}

// Expect fails the test unless the answer has status want.
func (r *APIResponse) Expect(t testing.TB, what string, want int) *APIResponse {
	t.Helper()
	if r.Status != want {
		t.Fatalf("%s: status %d, want %d; body %s", what, r.Status, want, r.Body)
	}
	return r
}

// Result is the answer's result object (a get, create or update).
func (r *APIResponse) Result() map[string]any {
	m, _ := r.JSON["result"].(map[string]any)
	return m
}

// Str returns the string at key of the answer.
func (r *APIResponse) Str(key string) string {
	s, _ := r.JSON[key].(string)
	return s
}
