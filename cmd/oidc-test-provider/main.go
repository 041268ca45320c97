// Command oidc-test-provider runs a local OpenID Connect provider
// (internal/oidctest) for trying the app's single sign-on by hand: one
// client, musicadmin, with a fixed secret, and two users, ada (groups
// admins) and sam (groups staff). It prints the app configuration to
// paste and the users' passwords. Not for production: the secret and
// passwords are in this file.
//
//	go run ./cmd/oidc-test-provider [-addr 127.0.0.1:9998] [-app http://localhost:8080]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"musicadmin/internal/oidctest"
)

// ClientSecret is the trial client's secret: fixed, so that the printed
// configuration stays valid from one run to the next.
const ClientSecret = "musicadmin-local-sso-secret"

// users are the trial accounts.
var users = []oidctest.User{
	{
		Subject: "ada-0001", Username: "ada", Password: "ada-sso-password",
		Email: "ada@example.com", EmailVerified: true, GivenName: "Ada", FamilyName: "Lovelace",
		Groups: []string{"admins"},
	},
	{
		Subject: "sam-0002", Username: "sam", Password: "sam-sso-password",
		Email: "sam@example.com", EmailVerified: true, GivenName: "Sam", FamilyName: "Carter",
		Groups: []string{"staff"},
	},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "oidc-test-provider:", err)
		stop()
		os.Exit(1)
	}
}

// run serves the provider until ctx ends. It sends the listening
// provider to ready, when not nil, once the configuration is printed.
func run(ctx context.Context, args []string, stdout io.Writer, ready chan<- *oidctest.Provider) error {
	fs := flag.NewFlagSet("oidc-test-provider", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:9998", "address to listen on; the issuer is http://ADDR")
	app := fs.String("app", "http://localhost:8080", "the app's base URL: APP/login/oidc/callback is an allowed redirect, and so is its 127.0.0.1 or localhost twin")
	if err := fs.Parse(args); err != nil {
		return err
	}
	redirects, err := callbacks(*app)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	// The issuer names the address actually bound (a port 0 picks one).
	p, err := oidctest.New(oidctest.Config{
		Issuer:       "http://" + ln.Addr().String(),
		ClientSecret: ClientSecret,
		RedirectURIs: redirects,
		Users:        users,
	})
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{
		Handler:           p,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	printConfig(stdout, p, redirects)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if ready != nil {
		ready <- p
	}
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// callbacks answers the app's callback URL and, when the app's host is
// localhost or 127.0.0.1, the same URL with the other name (a browser
// may use either; the provider compares redirect URIs exactly).
func callbacks(app string) ([]string, error) {
	u, err := url.Parse(app)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("-app %q: want the app's base URL, e.g. http://localhost:8080", app)
	}
	u.Path, u.RawQuery, u.Fragment = "/login/oidc/callback", "", ""
	list := []string{u.String()}
	twin := map[string]string{"localhost": "127.0.0.1", "127.0.0.1": "localhost"}[u.Hostname()]
	if twin != "" {
		if port := u.Port(); port != "" {
			u.Host = net.JoinHostPort(twin, port)
		} else {
			u.Host = twin
		}
		list = append(list, u.String())
	}
	return list, nil
}

// printConfig writes the app configuration for this provider and the
// trial users.
func printConfig(w io.Writer, p *oidctest.Provider, redirects []string) {
	fmt.Fprintf(w, `OpenID provider for local trials at %s
Add this to the app's config.yaml (or merge it into its auth section):

auth:
  oidc:
    issuer: %s
    client_id: %s
    client_secret: %s
    roles_mapping: {admins: [Admin], staff: [ReadOnly]}
    registration: true

Users (type these at the provider's login page):
`, p.Issuer, p.Issuer, p.ClientID, p.ClientSecret)
	for _, u := range users {
		fmt.Fprintf(w, "  %-4s password %-18s groups %v, email %s\n", u.Username, u.Password, u.Groups, u.Email)
	}
	fmt.Fprintln(w, "\nAllowed redirect URIs:")
	for _, r := range redirects {
		fmt.Fprintln(w, "  "+r)
	}
	fmt.Fprintln(w, "\nCtrl-C stops it.")
}
