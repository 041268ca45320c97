package oidctest

import (
	"context"

	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// store is zitadel's in-memory example storage with what the example
// lacks: the groups claim, redirect URIs that can be added while the
// provider runs, and the profile and email claims in the ID token.
type store struct {
	*storage.Storage
	p *Provider
}

// GetClientByClientID answers the provider's one client, wrapped.
func (s *store) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, clientID)
	if err != nil {
		return nil, err
	}
	return client{Client: c, p: s.p}, nil
}

// SetUserinfoFromRequest fills the ID token's user claims: the example's
// (by scope) and the groups claim, always.
func (s *store) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, info, req, scopes); err != nil {
		return err
	}
	info.AppendClaims("groups", s.p.groupsOf(req.GetSubject()))
	return nil
}

// SetUserinfoFromToken fills the userinfo endpoint's answer, groups
// included.
func (s *store) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, info, tokenID, subject, origin); err != nil {
		return err
	}
	if info.Subject != "" {
		info.AppendClaims("groups", s.p.groupsOf(info.Subject))
	}
	return nil
}

// client is the example's web client with the provider's redirect URIs
// and the user claims asserted into the ID token (the example leaves them
// to the userinfo endpoint when an access token is issued).
type client struct {
	op.Client
	p *Provider
}

func (c client) RedirectURIs() []string { return c.p.redirectURIs() }

func (c client) IDTokenUserinfoClaimsAssertion() bool { return true }

// users is the example storage's user store over the provider's users.
type users struct {
	byID map[string]*storage.User
}

func newUsers(list []User) users {
	u := users{byID: make(map[string]*storage.User, len(list))}
	for _, x := range list {
		u.byID[x.Subject] = &storage.User{
			ID:                x.Subject,
			Username:          x.Username,
			Password:          x.Password,
			FirstName:         x.GivenName,
			LastName:          x.FamilyName,
			Email:             x.Email,
			EmailVerified:     x.EmailVerified,
			PreferredLanguage: language.English,
		}
	}
	return u
}

func (u users) GetUserByID(id string) *storage.User { return u.byID[id] }

func (u users) GetUserByUsername(name string) *storage.User {
	for _, x := range u.byID {
		if x.Username == name {
			return x
		}
	}
	return nil
}

// ExampleClientID names the example's service user (JWT profile grant),
// which this provider does not use.
func (u users) ExampleClientID() string { return "service" }
