package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"musicadmin/internal/access"
	"musicadmin/internal/app"
	"musicadmin/internal/auth"
	"musicadmin/internal/config"
	"musicadmin/internal/metrics"
	"musicadmin/internal/server"
)

func (a *runner) runCmd() *cobra.Command {
	var addr string
	var initAdmin bool
	cmd := command("run", "Serve the web app; SIGINT/SIGTERM drain requests in flight, then exit 0", func(cmd *cobra.Command) error {
		return a.withBackend(cmd.Context(), latest, func(ctx context.Context, cfg config.Config, db *app.App) error {
			if cmd.Flags().Changed("addr") {
				cfg.Server.Addr = addr
			}
			return a.serve(ctx, cfg, db, initAdmin)
		})
	})
	cmd.Flags().StringVar(&addr, "addr", "", "listen address (default from config, :8080)")
	cmd.Flags().BoolVar(&initAdmin, "init-admin", false,
		"when no user exists, create \"admin\" with a random password and print it once")
	return cmd
}

// serve serves the web app over db until ctx ends, first creating an admin
// on a database with no user when initAdmin is set.
func (a *runner) serve(ctx context.Context, cfg config.Config, db *app.App, initAdmin bool) error {
	log := a.logger()
	if cfg.GeneratedSecret {
		log.Warn("dev mode: no secret_key set, using a random one; sessions end when the server restarts")
	}
	opts := server.Options{BcryptCost: a.env.bcryptCost()}
	if cfg.Server.MetricsAddr != "" {
		opts.Metrics = metrics.New(Version, db.Backend)
	}
	webApp, err := db.Server(cfg, log, opts)
	if err != nil {
		return err
	}
	// Listen before the first admin is made: its login URL is the address
	// served, and a port in use creates nobody.
	ln, err := listen(cfg.Server.Addr)
	if err != nil {
		return err
	}
	if initAdmin {
		if err := a.bootstrapAdmin(ctx, db, webApp.Users, loginURL(cfg.Server.Addr, ln.Addr())); err != nil {
			_ = ln.Close()
			return err
		}
	}
	if opts.Metrics != nil {
		stop, err := serveMetrics(cfg.Server.MetricsAddr, opts.Metrics, log)
		if err != nil {
			_ = ln.Close()
			return err
		}
		defer stop()
	}
	log.Info("serving", "addr", ln.Addr().String(), "driver", cfg.Database.Driver, "gogc", paceCollector(a.env))
	srv := server.NewHTTPServer(cfg.Server.Addr, webApp.Handler, log)
	drain := server.Drain{Begin: webApp.Probes.Drain, Delay: time.Duration(cfg.Server.DrainDelay)}
	if err := server.Serve(ctx, srv, ln, log, drain); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

// serveMetrics serves GET /metrics, and nothing else, on addr, apart from
// the app's address, until stop is called.
func serveMetrics(addr string, m *metrics.Metrics, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("server.metrics_addr: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := server.NewHTTPServer(addr, mux, log)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	log.Info("serving metrics", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}

// listen listens on addr; an address in use says how to serve on another.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		next := nextPort(addr)
		return nil, fmt.Errorf("%s is in use by another program: serve on another port with --addr %s or APP_SERVER_ADDR=%s",
			addr, next, next)
	}
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// nextPort is addr with the port after its own: ":8080" gives ":8081".
func nextPort(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	p, perr := strconv.Atoi(port)
	if err != nil || perr != nil || p <= 0 || p >= 65535 {
		return ":8081"
	}
	return net.JoinHostPort(host, strconv.Itoa(p+1))
}

// loginURL is the login page's URL on the address served: the configured
// host (localhost when it is every interface) and the port listened on.
func loginURL(addr string, served net.Addr) string {
	host, _, _ := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	_, port, _ := net.SplitHostPort(served.String())
	return "http://" + net.JoinHostPort(host, port) + "/login/"
}

// bootstrapAdmin gives a fresh install a way in: an admin account with a
// random password, printed once on stdout and never logged, with what to do
// next. It is created as create-user creates one: the form's rules, and an
// audit entry.
func (a *runner) bootstrapAdmin(ctx context.Context, db *app.App, users *auth.Users, login string) error {
	n, err := users.Count(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	password := randomPassword()
	err = a.createUser(ctx, db, auth.NewUser{Username: "admin", FirstName: "Admin", LastName: "User",
		Email: "admin@example.com", Password: password}, []string{access.AdminRole})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.env.Stdout, "\n  First run: created the user \"admin\" with the password %s (shown only once).\n"+
		"  Log in at %s as admin with that password.\n"+
		"  Add more users in Security › List Users, or with\n"+
		"    bin/app create-user --username U --firstname F --lastname L --email E --role ReadOnly\n\n",
		password, login)
	return nil
}
