package oidctest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/PuerkitoBio/goquery"
)

// SignIn plays the browser at the provider: from authorizeURL (where the
// app redirected to) through the provider's login page, signing in as
// username with password, to the redirect back to the app, which it
// answers without following it: the app's callback URL with code and
// state (or with error, when the provider refuses the request after
// sign-in). c sends the requests; its redirect policy and cookie jar are
// not used. A wrong password, or an authorization request the provider
// refuses outright (an unknown client or redirect URI), is an error.
func (p *Provider) SignIn(c *http.Client, authorizeURL, username, password string) (*url.URL, error) {
	if c == nil {
		c = http.DefaultClient
	}
	nc := *c
	nc.Jar = nil
	nc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	u, err := url.Parse(authorizeURL)
	if err != nil {
		return nil, fmt.Errorf("oidctest: authorization URL: %w", err)
	}
	submitted := false
	for range 10 {
		if !p.owns(u) {
			return u, nil
		}
		var resp *http.Response
		if submitted || !strings.HasPrefix(u.Path, "/login/") {
			resp, err = nc.Get(u.String())
		} else {
			resp, err = p.submitLogin(&nc, u, username, password)
			submitted = true
		}
		if err != nil {
			return nil, fmt.Errorf("oidctest: sign-in: %w", err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("oidctest: sign-in: %w", err)
		}
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			loc, err := resp.Location()
			if err != nil {
				return nil, fmt.Errorf("oidctest: sign-in: redirect from %s: %w", u.Path, err)
			}
			u = loc
		case resp.StatusCode == http.StatusOK && submitted:
			// The login form again: the provider refused the password.
			return nil, fmt.Errorf("oidctest: sign-in as %q refused: %s", username, pageMessage(body))
		default:
			return nil, fmt.Errorf("oidctest: sign-in: %s answered %d: %s", u.Path, resp.StatusCode, pageMessage(body))
		}
	}
	return nil, errors.New("oidctest: sign-in: too many redirects")
}

// submitLogin loads the login page at u and posts its form with the
// username and password.
func (p *Provider) submitLogin(c *http.Client, u *url.URL, username, password string) (*http.Response, error) {
	resp, err := c.Get(u.String())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("login page %s answered %d", u.Path, resp.StatusCode)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		return nil, err
	}
	form := doc.Find("form").First()
	if form.Length() == 0 || form.Find(`input[name="password"]`).Length() == 0 {
		return nil, fmt.Errorf("login page %s has no password form", u.Path)
	}
	values := url.Values{}
	form.Find("input[name]").Each(func(_ int, in *goquery.Selection) {
		name, _ := in.Attr("name")
		value, _ := in.Attr("value")
		values.Set(name, value)
	})
	values.Set("username", username)
	values.Set("password", password)
	action, _ := form.Attr("action")
	target, err := u.Parse(action)
	if err != nil {
		return nil, fmt.Errorf("login form action %q: %w", action, err)
	}
	return c.PostForm(target.String(), values)
}

// owns reports whether u is at the provider.
func (p *Provider) owns(u *url.URL) bool {
	return u.Scheme+"://"+u.Host == p.Issuer
}

// pageMessage is the error text of a provider page: the login form's
// message, else the body's text, shortened.
func pageMessage(body []byte) string {
	msg := strings.TrimSpace(string(body))
	if doc, err := goquery.NewDocumentFromReader(strings.NewReader(msg)); err == nil {
		if p := strings.TrimSpace(doc.Find("form p").Text()); p != "" {
			msg = p
		} else {
			msg = strings.Join(strings.Fields(doc.Text()), " ")
		}
	}
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return msg
}
