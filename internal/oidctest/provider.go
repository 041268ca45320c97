// Package oidctest is a real OpenID Connect provider for tests and local
// trials of the app's single sign-on: zitadel's op package with its
// example in-memory storage and login page, one confidential web client,
// users given by the caller, and hooks that make the next ID token wrong
// in a chosen way. Only tests and cmd/oidc-test-provider import it.
package oidctest

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
)

// DefaultClientID is the client id of a provider whose Config names none.
const DefaultClientID = "musicadmin"

// User is one account at the provider.
type User struct {
	// Subject is the stable "sub" claim.
	Subject string
	// Username and Password are what is typed at the provider's login
	// page; Username is also the preferred_username claim.
	Username, Password string
	// Email and EmailVerified are the email and email_verified claims.
	Email         string
	EmailVerified bool
	// GivenName and FamilyName are the given_name and family_name claims.
	GivenName, FamilyName string
	// Groups is the groups claim, in the ID token and at the userinfo
	// endpoint; SetGroups changes it.
	Groups []string
}

// Config is what New needs.
type Config struct {
	// Issuer is the provider's address and its iss claim, e.g.
	// http://127.0.0.1:9998 (no path; http is allowed).
	Issuer string
	// ClientID is the one client's id; DefaultClientID when empty.
	ClientID string
	// ClientSecret is the client's secret (client_secret_basic or
	// client_secret_post); a random one when empty.
	ClientSecret string
	// RedirectURIs are the client's allowed redirect URIs; AllowRedirect
	// adds more later.
	RedirectURIs []string
	// Users are the accounts; a Subject, Username and Password each.
	Users []User
}

// Provider is a running OpenID provider with one confidential web client:
// authorization code flow, PKCE S256 (advertised in discovery), the
// client authenticated by client_secret_basic or client_secret_post.
// The ID token carries sub, email, email_verified, given_name,
// family_name, preferred_username, groups and the request's nonce.
// It is an http.Handler serving the whole provider at the issuer's root.
type Provider struct {
	// Issuer, ClientID and ClientSecret are what the app's configuration
	// needs (auth.oidc.issuer, client_id, client_secret).
	Issuer, ClientID, ClientSecret string

	handler http.Handler
	store   *store

	mu        sync.Mutex
	redirects []string
	groups    map[string][]string
	tamper    []func(claims map[string]any) // consumed, one per token answer
	foreign   bool
}

// New builds a provider for c. It does not listen: serve it (it is an
// http.Handler) at c.Issuer.
func New(c Config) (*Provider, error) {
	u, err := url.Parse(c.Issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("oidctest: issuer %q: want http(s)://host[:port] without a path", c.Issuer)
	}
	p := &Provider{
		Issuer:       u.Scheme + "://" + u.Host,
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		redirects:    slices.Clone(c.RedirectURIs),
		groups:       make(map[string][]string, len(c.Users)),
	}
	if p.ClientID == "" {
		p.ClientID = DefaultClientID
	}
	if p.ClientSecret == "" {
		p.ClientSecret = rand.Text()
	}
	seen := map[string]bool{}
	for _, x := range c.Users {
		if x.Subject == "" || x.Username == "" || x.Password == "" {
			return nil, errors.New("oidctest: a user needs a Subject, a Username and a Password")
		}
		if seen["s"+x.Subject] || seen["u"+x.Username] {
			return nil, fmt.Errorf("oidctest: user %q or subject %q given twice", x.Username, x.Subject)
		}
		seen["s"+x.Subject], seen["u"+x.Username] = true, true
		p.groups[x.Subject] = slices.Clone(x.Groups)
	}
	clients := map[string]*storage.Client{
		// The redirect URIs given here are never read: client.RedirectURIs
		// answers the provider's list.
		p.ClientID: storage.WebClient(p.ClientID, p.ClientSecret, "http://unused.invalid/"),
	}
	p.store = &store{Storage: storage.NewStorageWithClients(newUsers(c.Users), clients), p: p}
	// A nil logger: SetupServer then leaves slog's default logger alone
	// (it logs each request to it). It stops the process only when the
	// issuer is invalid, which the check above rules out.
	router := exampleop.SetupServer(p.Issuer, p.store, nil, false)
	p.handler = p.rewriteTokens(router)
	return p, nil
}

// Start runs a provider on 127.0.0.1 at a random port (an httptest
// server), closed at t's cleanup, with a random client secret and no
// redirect URI yet (see AllowRedirect).
func Start(t testing.TB, users ...User) *Provider {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	p, err := New(Config{Issuer: "http://" + srv.Listener.Addr().String(), Users: users})
	if err != nil {
		srv.Listener.Close()
		t.Fatal(err)
	}
	srv.Config.Handler = p
	srv.Start()
	t.Cleanup(srv.Close)
	return p
}

// ServeHTTP serves the provider: discovery at
// /.well-known/openid-configuration, the endpoints it names, and the
// login page under /login/.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.handler.ServeHTTP(w, r)
}

// AllowRedirect adds uri to the client's redirect URIs (compared exactly:
// scheme, host, port and path).
func (p *Provider) AllowRedirect(uri string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !slices.Contains(p.redirects, uri) {
		p.redirects = append(p.redirects, uri)
	}
}

func (p *Provider) redirectURIs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.redirects)
}

// SetGroups replaces the groups claim of the user with this subject in
// the tokens and userinfo answers issued from now on.
func (p *Provider) SetGroups(subject string, groups []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.groups[subject] = slices.Clone(groups)
}

// groupsOf answers subject's groups, never nil (the claim is an array,
// empty when the user has no group).
func (p *Provider) groupsOf(subject string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	g := slices.Clone(p.groups[subject])
	if g == nil {
		g = []string{}
	}
	return g
}
