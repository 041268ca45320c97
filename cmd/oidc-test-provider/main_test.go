package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"musicadmin/internal/oidctest"
)

// TestRun starts the command, checks the printed configuration, and signs
// in as each trial user through the app's callback and its 127.0.0.1
// twin.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var out bytes.Buffer
	ready := make(chan *oidctest.Provider, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-app", "http://localhost:8123"}, &out, ready)
	}()
	var p *oidctest.Provider
	select {
	case p = <-ready:
	case err := <-done:
		t.Fatalf("run: %v", err)
	}

	printed := out.String()
	for _, want := range []string{
		"auth:\n  oidc:\n    issuer: " + p.Issuer + "\n    client_id: musicadmin\n    client_secret: " + ClientSecret + "\n",
		"    roles_mapping: {admins: [Admin], staff: [ReadOnly]}\n    registration: true\n",
		"ada  password ada-sso-password",
		"sam  password sam-sso-password",
		"http://localhost:8123/login/oidc/callback",
		"http://127.0.0.1:8123/login/oidc/callback",
	} {
		if !strings.Contains(printed, want) {
			t.Errorf("printed configuration lacks %q:\n%s", want, printed)
		}
	}

	provider, err := oidc.NewProvider(t.Context(), p.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: "musicadmin"})
	for _, tc := range []struct{ user, password, callback, group string }{
		{"ada", "ada-sso-password", "http://localhost:8123/login/oidc/callback", "admins"},
		{"sam", "sam-sso-password", "http://127.0.0.1:8123/login/oidc/callback", "staff"},
	} {
		conf := oauth2.Config{
			ClientID: "musicadmin", ClientSecret: ClientSecret, Endpoint: provider.Endpoint(),
			RedirectURL: tc.callback, Scopes: []string{oidc.ScopeOpenID, "profile", "email"},
		}
		pkce := oauth2.GenerateVerifier()
		back, err := p.SignIn(nil, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(pkce)), tc.user, tc.password)
		if err != nil {
			t.Fatalf("%s: %v", tc.user, err)
		}
		tok, err := conf.Exchange(t.Context(), back.Query().Get("code"), oauth2.VerifierOption(pkce))
		if err != nil {
			t.Fatalf("%s: exchange: %v", tc.user, err)
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := verifier.Verify(t.Context(), raw)
		if err != nil {
			t.Fatalf("%s: %v", tc.user, err)
		}
		var cl struct {
			Email  string   `json:"email"`
			Groups []string `json:"groups"`
		}
		if err := idt.Claims(&cl); err != nil || cl.Email != tc.user+"@example.com" || len(cl.Groups) != 1 || cl.Groups[0] != tc.group {
			t.Errorf("%s: claims %+v (%v)", tc.user, cl, err)
		}
	}

	// Another port of the app is not an allowed redirect.
	conf := oauth2.Config{ClientID: "musicadmin", Endpoint: provider.Endpoint(), RedirectURL: "http://localhost:9999/login/oidc/callback"}
	if back, err := p.SignIn(nil, conf.AuthCodeURL("st"), "ada", "ada-sso-password"); err == nil {
		t.Errorf("a redirect to another port was allowed: %s", back)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run after cancel: %v", err)
	}
}

func TestRunRejectsBadApp(t *testing.T) {
	if err := run(t.Context(), []string{"-addr", "127.0.0.1:0", "-app", "localhost:8080"}, &bytes.Buffer{}, nil); err == nil {
		t.Fatal("an -app without a scheme was accepted")
	}
}
