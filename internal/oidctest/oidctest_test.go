package oidctest_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"musicadmin/internal/oidctest"
)

const callback = "http://app.test/login/oidc/callback"

var ada = oidctest.User{
	Subject: "sub-ada", Username: "ada", Password: "ada-pw",
	Email: "ada@example.com", EmailVerified: true,
	GivenName: "Ada", FamilyName: "Lovelace",
	Groups: []string{"admins", "staff"},
}

var sam = oidctest.User{
	Subject: "sub-sam", Username: "sam", Password: "sam-pw",
	Email: "sam@example.com", GivenName: "Sam", FamilyName: "Smith",
}

// claims is the part of the ID token the app reads.
type claims struct {
	Subject           string   `json:"sub"`
	Email             string   `json:"email"`
	EmailVerified     bool     `json:"email_verified"`
	GivenName         string   `json:"given_name"`
	FamilyName        string   `json:"family_name"`
	PreferredUsername string   `json:"preferred_username"`
	Groups            []string `json:"groups"`
	Nonce             string   `json:"nonce"`
}

// client is the app's side of the flow, as the app does it: go-oidc for
// discovery and verification, x/oauth2 for the code exchange with PKCE.
type client struct {
	p        *oidctest.Provider
	provider *oidc.Provider
	conf     oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func newClient(t *testing.T, p *oidctest.Provider) *client {
	t.Helper()
	p.AllowRedirect(callback)
	provider, err := oidc.NewProvider(t.Context(), p.Issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return &client{
		p:        p,
		provider: provider,
		conf: oauth2.Config{
			ClientID: p.ClientID, ClientSecret: p.ClientSecret,
			Endpoint: provider.Endpoint(), RedirectURL: callback,
			Scopes: []string{oidc.ScopeOpenID, "profile", "email"},
		},
		verifier: provider.Verifier(&oidc.Config{ClientID: p.ClientID}),
	}
}

// flow is one sign-in: it returns the code exchange's answer, the nonce
// it sent, and the code (for a replay).
type flow struct {
	token *oauth2.Token
	nonce string
	code  string
}

// signIn runs the browser part and the code exchange; the ID token is
// not verified yet.
func (c *client) signIn(t *testing.T, username, password string) flow {
	t.Helper()
	pkce := oauth2.GenerateVerifier()
	state, nonce := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	back, err := c.p.SignIn(http.DefaultClient,
		c.conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(pkce)), username, password)
	if err != nil {
		t.Fatalf("SignIn: %v", err)
	}
	if got := back.Scheme + "://" + back.Host + back.Path; got != callback {
		t.Fatalf("SignIn returned %s, want the callback %s", back, callback)
	}
	q := back.Query()
	if q.Get("state") != state || q.Get("code") == "" {
		t.Fatalf("callback query %v: want state %q and a code", q, state)
	}
	tok, err := c.conf.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(pkce))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	return flow{token: tok, nonce: nonce, code: q.Get("code")}
}

func rawIDToken(t *testing.T, tok *oauth2.Token) string {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		t.Fatal("token answer without id_token")
	}
	return raw
}

// verify checks the ID token as the app does and decodes its claims.
func (c *client) verify(t *testing.T, f flow) (claims, error) {
	t.Helper()
	idt, err := c.verifier.Verify(t.Context(), rawIDToken(t, f.token))
	if err != nil {
		return claims{}, err
	}
	var cl claims
	if err := idt.Claims(&cl); err != nil {
		t.Fatal(err)
	}
	if cl.Nonce != f.nonce {
		return cl, errors.New("nonce mismatch")
	}
	return cl, nil
}

func TestDiscovery(t *testing.T) {
	p := oidctest.Start(t, ada)
	resp, err := http.Get(p.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d struct {
		Issuer        string   `json:"issuer"`
		Authorization string   `json:"authorization_endpoint"`
		Token         string   `json:"token_endpoint"`
		JWKS          string   `json:"jwks_uri"`
		PKCE          []string `json:"code_challenge_methods_supported"`
		AuthMethods   []string `json:"token_endpoint_auth_methods_supported"`
		ResponseTypes []string `json:"response_types_supported"`
		Algs          []string `json:"id_token_signing_alg_values_supported"`
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("discovery answered %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	if d.Issuer != p.Issuer || !strings.HasPrefix(p.Issuer, "http://127.0.0.1:") {
		t.Errorf("issuer %q, provider says %q", d.Issuer, p.Issuer)
	}
	for _, e := range []string{d.Authorization, d.Token, d.JWKS} {
		if !strings.HasPrefix(e, p.Issuer+"/") {
			t.Errorf("endpoint %q not under the issuer", e)
		}
	}
	if !slices.Contains(d.PKCE, "S256") {
		t.Errorf("code_challenge_methods_supported %v: want S256", d.PKCE)
	}
	for _, m := range []string{"client_secret_basic", "client_secret_post"} {
		if !slices.Contains(d.AuthMethods, m) {
			t.Errorf("token_endpoint_auth_methods_supported %v: want %s", d.AuthMethods, m)
		}
	}
	if !slices.Contains(d.ResponseTypes, "code") || !slices.Contains(d.Algs, "RS256") {
		t.Errorf("response types %v, algs %v: want code and RS256", d.ResponseTypes, d.Algs)
	}
	keys, err := http.Get(d.JWKS)
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Body.Close()
	var set struct{ Keys []map[string]any }
	if err := json.NewDecoder(keys.Body).Decode(&set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("jwks: %v, %d keys, want 1", err, len(set.Keys))
	}
}

func TestCodeFlowWithPKCE(t *testing.T) {
	for _, style := range []struct {
		name  string
		style oauth2.AuthStyle
	}{{"client_secret_basic", oauth2.AuthStyleInHeader}, {"client_secret_post", oauth2.AuthStyleInParams}} {
		t.Run(style.name, func(t *testing.T) {
			p := oidctest.Start(t, ada, sam)
			c := newClient(t, p)
			c.conf.Endpoint.AuthStyle = style.style
			f := c.signIn(t, "ada", "ada-pw")
			got, err := c.verify(t, f)
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			want := claims{
				Subject: "sub-ada", Email: "ada@example.com", EmailVerified: true,
				GivenName: "Ada", FamilyName: "Lovelace", PreferredUsername: "ada",
				Groups: []string{"admins", "staff"}, Nonce: f.nonce,
			}
			if !equalClaims(got, want) {
				t.Errorf("ID token claims\n got %+v\nwant %+v", got, want)
			}

			// The userinfo endpoint has the groups too.
			info, err := c.provider.UserInfo(t.Context(), oauth2.StaticTokenSource(f.token))
			if err != nil {
				t.Fatalf("userinfo: %v", err)
			}
			var ic claims
			if err := info.Claims(&ic); err != nil {
				t.Fatal(err)
			}
			if ic.Subject != "sub-ada" || !slices.Equal(ic.Groups, want.Groups) || ic.Email != want.Email {
				t.Errorf("userinfo %+v", ic)
			}

			// Another user, no groups: an empty groups claim.
			got, err = c.verify(t, c.signIn(t, "sam", "sam-pw"))
			if err != nil {
				t.Fatal(err)
			}
			if got.Subject != "sub-sam" || got.EmailVerified || got.Groups == nil || len(got.Groups) != 0 {
				t.Errorf("sam's claims %+v: want sub-sam, email not verified, groups []", got)
			}
		})
	}
}

func equalClaims(a, b claims) bool {
	return reflect.DeepEqual(a, b)
}

func TestPKCEVerifierChecked(t *testing.T) {
	p := oidctest.Start(t, ada)
	c := newClient(t, p)
	back, err := p.SignIn(nil, c.conf.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "ada", "ada-pw")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.conf.Exchange(t.Context(), back.Query().Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier()))
	if err == nil {
		t.Fatal("a code exchanged with the wrong PKCE verifier was accepted")
	}
}

func TestSignInRefusals(t *testing.T) {
	p := oidctest.Start(t, ada)
	c := newClient(t, p)
	authURL := c.conf.AuthCodeURL("st", oidc.Nonce("n"))
	for _, tc := range []struct{ user, pw string }{{"ada", "wrong"}, {"ada", ""}, {"nobody", "ada-pw"}} {
		if back, err := p.SignIn(nil, authURL, tc.user, tc.pw); err == nil {
			t.Errorf("SignIn(%q, %q) = %s, want an error", tc.user, tc.pw, back)
		} else if !strings.Contains(err.Error(), "refused") {
			t.Errorf("SignIn(%q, %q): %v, want a refusal", tc.user, tc.pw, err)
		}
	}

	// A redirect URI never allowed: the provider refuses before its login.
	c.conf.RedirectURL = "http://evil.test/callback"
	if back, err := p.SignIn(nil, c.conf.AuthCodeURL("st"), "ada", "ada-pw"); err == nil {
		t.Errorf("SignIn with an unknown redirect URI = %s, want an error", back)
	}
}

func TestCodeReplayRefused(t *testing.T) {
	p := oidctest.Start(t, ada)
	c := newClient(t, p)
	pkce := oauth2.GenerateVerifier()
	back, err := p.SignIn(nil, c.conf.AuthCodeURL("st", oauth2.S256ChallengeOption(pkce)), "ada", "ada-pw")
	if err != nil {
		t.Fatal(err)
	}
	code := back.Query().Get("code")
	if _, err := c.conf.Exchange(t.Context(), code, oauth2.VerifierOption(pkce)); err != nil {
		t.Fatalf("first exchange: %v", err)
	}
	_, err = c.conf.Exchange(t.Context(), code, oauth2.VerifierOption(pkce))
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("second exchange of one code: %v, want invalid_grant", err)
	}
}

func TestTamperNext(t *testing.T) {
	p := oidctest.Start(t, ada)
	c := newClient(t, p)
	for _, tc := range []struct {
		name   string
		change func(map[string]any)
		want   string // in the verifier's error
	}{
		{"aud", func(m map[string]any) { m["aud"] = []string{"someone-else"} }, "audience"},
		{"iss", func(m map[string]any) { m["iss"] = "http://127.0.0.1:1" }, "different provider"},
		{"exp", func(m map[string]any) { m["exp"] = time.Now().Add(-time.Hour).Unix() }, "expired"},
		{"nonce", func(m map[string]any) { m["nonce"] = "not-the-one-sent" }, "nonce"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p.TamperNext(tc.change)
			_, err := c.verify(t, c.signIn(t, "ada", "ada-pw"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("tampered %s: verify says %v, want an error about %s", tc.name, err, tc.want)
			}
			// Consumed: the next token is sound.
			if _, err := c.verify(t, c.signIn(t, "ada", "ada-pw")); err != nil {
				t.Fatalf("the token after the tampered one: %v", err)
			}
		})
	}

	// The tampered token is signed by the published key: a change that
	// keeps the claims valid verifies.
	p.TamperNext(func(m map[string]any) { m["groups"] = []string{"forged"} })
	cl, err := c.verify(t, c.signIn(t, "ada", "ada-pw"))
	if err != nil || !slices.Equal(cl.Groups, []string{"forged"}) {
		t.Fatalf("re-signed token: %v, groups %v", err, cl.Groups)
	}
}

func TestForeignKeyNext(t *testing.T) {
	p := oidctest.Start(t, ada)
	c := newClient(t, p)
	p.ForeignKeyNext()
	f := c.signIn(t, "ada", "ada-pw")
	if _, err := c.verify(t, f); err == nil || !strings.Contains(err.Error(), "signature") {
		t.Fatalf("foreign-key token: verify says %v, want a signature error", err)
	}
	// The claims are those of a sound token: only the signature is wrong.
	parts := strings.Split(rawIDToken(t, f.token), ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if len(parts) != 3 || err != nil {
		t.Fatalf("id_token: %d parts, %v", len(parts), err)
	}
	var cl claims
	if err := json.Unmarshal(payload, &cl); err != nil || cl.Subject != "sub-ada" || cl.Nonce != f.nonce {
		t.Fatalf("foreign-key token claims %+v (%v): want ada's, with the nonce sent", cl, err)
	}
	if _, err := c.verify(t, c.signIn(t, "ada", "ada-pw")); err != nil {
		t.Fatalf("the token after the foreign one: %v", err)
	}
}

func TestSetGroups(t *testing.T) {
	p := oidctest.Start(t, ada)
	c := newClient(t, p)
	p.SetGroups("sub-ada", []string{"staff"})
	cl, err := c.verify(t, c.signIn(t, "ada", "ada-pw"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cl.Groups, []string{"staff"}) {
		t.Errorf("groups after SetGroups: %v, want [staff]", cl.Groups)
	}
	p.SetGroups("sub-ada", nil)
	if cl, err = c.verify(t, c.signIn(t, "ada", "ada-pw")); err != nil || cl.Groups == nil || len(cl.Groups) != 0 {
		t.Errorf("groups after SetGroups(nil): %v (%v), want []", cl.Groups, err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, c := range []oidctest.Config{
		{Issuer: "127.0.0.1:9998"},
		{Issuer: "http://127.0.0.1:9998/path"},
		{Issuer: "http://127.0.0.1:9998", Users: []oidctest.User{{Subject: "s", Username: "u"}}},
		{Issuer: "http://127.0.0.1:9998", Users: []oidctest.User{ada, ada}},
	} {
		if _, err := oidctest.New(c); err == nil {
			t.Errorf("New(%+v): no error", c)
		}
	}
	p, err := oidctest.New(oidctest.Config{Issuer: "http://127.0.0.1:9998/", ClientSecret: "s3cret"})
	if err != nil || p.Issuer != "http://127.0.0.1:9998" || p.ClientID != oidctest.DefaultClientID || p.ClientSecret != "s3cret" {
		t.Errorf("New: %v, %+v", err, p)
	}
}
