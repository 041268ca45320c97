// Package config loads the application configuration from a YAML file and
// APP_* environment overrides, and validates it before anything starts.
package config

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"musicadmin/internal/i18n"
	"musicadmin/internal/textutil"
)

// Drivers supported by the data layer.
const (
	DriverSQLite   = "sqlite"
	DriverMySQL    = "mysql"
	DriverPostgres = "postgres"
	DriverMongoDB  = "mongodb"
)

// MinSecretKeyLen is the shortest secret key accepted outside dev mode: the
// session cookies are signed with it, so it must resist brute force.
const MinSecretKeyLen = 32

// Config is the whole application configuration.
type Config struct {
	AppName string `yaml:"app_name"`
	// AppLanguage is the language of a request that asks for none the app
	// speaks (no ?lang=, no remembered choice, no Accept-Language match).
	AppLanguage string   `yaml:"app_language"`
	SecretKey   string   `yaml:"secret_key"`
	Dev         bool     `yaml:"dev"`
	Database    Database `yaml:"database"`
	Server      Server   `yaml:"server"`
	Auth        Auth     `yaml:"auth"`

	// GeneratedSecret is true when no key was configured and dev mode made a
	// random one for this process only.
	GeneratedSecret bool `yaml:"-"`
}

// Database selects the driver and the data source.
type Database struct {
	Driver string `yaml:"driver"`
	DSN    string `yaml:"dsn"`
	// SQLiteSynchronous is SQLite's synchronous setting: NORMAL (the
	// default) loses no commit when the process dies, only when the
	// machine loses power or crashes in the last moments; FULL keeps those
	// too, at a cost per write (docs/production.md gives the figures).
	SQLiteSynchronous string `yaml:"sqlite_synchronous"`
}

// SQLite synchronous settings accepted by database.sqlite_synchronous.
const (
	SQLiteSyncNormal = "NORMAL"
	SQLiteSyncFull   = "FULL"
)

// Server holds the HTTP listener settings.
type Server struct {
	Addr          string `yaml:"addr"`
	SecureCookies bool   `yaml:"secure_cookies"`
	// MetricsAddr is where /metrics is served, apart from the app's
	// address so that it is never public; empty means no metrics.
	MetricsAddr string `yaml:"metrics_addr"`
	// DrainDelay is how long, after SIGTERM, /readyz answers 503 while
	// the app still serves, before it stops accepting connections: long
	// enough for a load balancer's health check to take it out, so that
	// no client is sent to a closed port.
	DrainDelay Duration `yaml:"drain_delay"`
}

// Auth holds the sign-in settings.
type Auth struct {
	// PasswordLogin allows the login form's username and password; false
	// leaves single sign-on only (the command line still creates users
	// and resets passwords: the break-glass path from the server's shell).
	PasswordLogin bool `yaml:"password_login"`
	OIDC          OIDC `yaml:"oidc"`
	TOTP          TOTP `yaml:"totp"`
}

// OIDC holds single sign-on over OpenID Connect: off while Issuer is
// empty.
type OIDC struct {
	// Issuer is the provider's issuer URL; its discovery document is at
	// Issuer/.well-known/openid-configuration.
	Issuer       string   `yaml:"issuer"`
	ClientID     string   `yaml:"client_id"`
	ClientSecret string   `yaml:"client_secret"`
	Scopes       []string `yaml:"scopes"`
	// Button is the label of the login page's sign-on button.
	Button string `yaml:"button"`
	// RolesClaim names the claim (of the ID token, else of userinfo)
	// whose values RolesMapping turns into roles.
	RolesClaim   string              `yaml:"roles_claim"`
	RolesMapping map[string][]string `yaml:"roles_mapping"`
	// SyncRolesAtLogin sets a user's roles from the mapping at every
	// sign-in; false maps them only when the user is registered.
	SyncRolesAtLogin bool `yaml:"sync_roles_at_login"`
	// Registration creates a user at the first sign-in of an unknown
	// subject, with RegistrationRole besides the mapped roles.
	Registration     bool   `yaml:"registration"`
	RegistrationRole string `yaml:"registration_role"`
	// EmailDomains are the e-mail domains allowed to sign in, compared
	// whole ("example.com" is not "evil-example.com" nor
	// "sub.example.com"); empty allows any.
	EmailDomains []string `yaml:"email_domains"`
}

// Enabled reports whether single sign-on is configured.
func (o OIDC) Enabled() bool { return strings.TrimSpace(o.Issuer) != "" }

// TOTP holds the second factor's settings.
type TOTP struct {
	// RequiredForRoles are the roles whose holders must enroll a second
	// factor: right after their password they are sent to enrollment, and
	// no other page answers them until they have (e.g. [Admin]).
	RequiredForRoles []string `yaml:"required_for_roles"`
}

// Duration is a time.Duration written as Go writes one ("1s", "500ms").
type Duration time.Duration

// UnmarshalYAML reads a duration string.
func (d *Duration) UnmarshalYAML(node *yaml.Node) error {
	v, err := parseDuration(node.Value)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as a string ("1.5s").
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// parseDuration parses a non-negative Go duration.
func parseDuration(s string) (time.Duration, error) {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%q is not a duration such as 500ms or 2s", s)
	}
	return v, nil
}

// Default returns the configuration used when a key is absent from the file.
func Default() Config {
	return Config{
		AppName:     "Music Admin",
		AppLanguage: i18n.Default,
		Database:    Database{Driver: DriverSQLite, DSN: "app.db", SQLiteSynchronous: SQLiteSyncNormal},
		Server:      Server{Addr: ":8080"},
		Auth: Auth{PasswordLogin: true, OIDC: OIDC{Scopes: []string{"openid", "profile", "email"},
			Button: "Sign in with SSO", RolesClaim: "groups", SyncRolesAtLogin: true, RegistrationRole: "ReadOnly"}},
	}
}

// Error is a configuration error: the CLI turns it into exit status 2.
type Error struct{ Err error }

func (e *Error) Error() string { return "config: " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func configErr(format string, args ...any) error {
	return &Error{Err: fmt.Errorf(format, args...)}
}

// Load reads the YAML file at path, applies the APP_* overrides read through
// getenv and validates the result. Keys absent from the file keep their
// defaults; unknown keys are an error, so a typo never passes silently.
func Load(path string, lookupEnv func(string) (string, bool)) (Config, error) {
	cfg := Default()
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, configErr("cannot read %s: %s", path, textutil.OneLine(errText(err)))
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	// io.EOF means an empty document: a file of defaults only is valid.
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, configErr("%s: bad YAML: %s", path, textutil.OneLine(err.Error()))
	}
	if err := applyEnv(&cfg, lookupEnv); err != nil {
		return Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// applyEnv overrides file values with APP_* variables. A variable set to the
// empty string counts as set, so APP_SECRET_KEY="" really empties the key.
func applyEnv(cfg *Config, lookupEnv func(string) (string, bool)) error {
	str := func(key string, dst *string) {
		if v, ok := lookupEnv(key); ok {
			*dst = v
		}
	}
	boolean := func(key string, dst *bool) error {
		v, ok := lookupEnv(key)
		if !ok || strings.TrimSpace(v) == "" {
			return nil
		}
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return configErr("%s: %q is not a boolean", key, v)
		}
		*dst = b
		return nil
	}
	str("APP_APP_NAME", &cfg.AppName)
	str("APP_APP_LANGUAGE", &cfg.AppLanguage)
	str("APP_SECRET_KEY", &cfg.SecretKey)
	str("APP_DATABASE_DRIVER", &cfg.Database.Driver)
	str("APP_DATABASE_DSN", &cfg.Database.DSN)
	str("APP_DATABASE_SQLITE_SYNCHRONOUS", &cfg.Database.SQLiteSynchronous)
	str("APP_SERVER_ADDR", &cfg.Server.Addr)
	str("APP_SERVER_METRICS_ADDR", &cfg.Server.MetricsAddr)
	if v, ok := lookupEnv("APP_SERVER_DRAIN_DELAY"); ok && strings.TrimSpace(v) != "" {
		d, err := parseDuration(v)
		if err != nil {
			return configErr("APP_SERVER_DRAIN_DELAY: %s", err)
		}
		cfg.Server.DrainDelay = Duration(d)
	}
	if v, ok := lookupEnv("APP_AUTH_TOTP_REQUIRED_FOR_ROLES"); ok {
		// Comma separated: "Admin,Editor"; empty: none.
		cfg.Auth.TOTP.RequiredForRoles = nil
		for _, role := range strings.Split(v, ",") {
			if role = strings.TrimSpace(role); role != "" {
				cfg.Auth.TOTP.RequiredForRoles = append(cfg.Auth.TOTP.RequiredForRoles, role)
			}
		}
	}
	str("APP_AUTH_OIDC_ISSUER", &cfg.Auth.OIDC.Issuer)
	str("APP_AUTH_OIDC_CLIENT_ID", &cfg.Auth.OIDC.ClientID)
	str("APP_AUTH_OIDC_CLIENT_SECRET", &cfg.Auth.OIDC.ClientSecret)
	for key, dst := range map[string]*bool{"APP_SERVER_SECURE_COOKIES": &cfg.Server.SecureCookies,
		"APP_AUTH_PASSWORD_LOGIN": &cfg.Auth.PasswordLogin, "APP_AUTH_OIDC_REGISTRATION": &cfg.Auth.OIDC.Registration,
		"APP_AUTH_OIDC_SYNC_ROLES_AT_LOGIN": &cfg.Auth.OIDC.SyncRolesAtLogin} {
		if err := boolean(key, dst); err != nil {
			return err
		}
	}
	return boolean("APP_DEV", &cfg.Dev)
}

// sameFixedAddr reports whether a and b are one fixed address (port 0 is
// a new free port each time).
func sameFixedAddr(a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	return a != "" && a == b && !strings.HasSuffix(a, ":0")
}

// Validate checks the configuration. In dev mode an empty secret key is
// replaced by a random one for this process.
func (c *Config) Validate() error {
	c.Database.Driver = strings.ToLower(strings.TrimSpace(c.Database.Driver))
	switch c.Database.Driver {
	case DriverSQLite, DriverMySQL, DriverPostgres, DriverMongoDB:
	default:
		return configErr("unknown database driver %q (want sqlite, mysql, postgres or mongodb)", c.Database.Driver)
	}
	if strings.TrimSpace(c.Database.DSN) == "" {
		return configErr("database.dsn is empty")
	}
	if strings.TrimSpace(c.Server.Addr) == "" {
		return configErr("server.addr is empty")
	}
	switch c.Database.SQLiteSynchronous = strings.ToUpper(strings.TrimSpace(c.Database.SQLiteSynchronous)); c.Database.SQLiteSynchronous {
	case "":
		c.Database.SQLiteSynchronous = SQLiteSyncNormal
	case SQLiteSyncNormal, SQLiteSyncFull:
	default:
		return configErr("database.sqlite_synchronous %q: want NORMAL or FULL", c.Database.SQLiteSynchronous)
	}
	if sameFixedAddr(c.Server.MetricsAddr, c.Server.Addr) {
		return configErr("server.metrics_addr must differ from server.addr: metrics are never served on the public address")
	}
	if strings.TrimSpace(c.AppName) == "" {
		c.AppName = Default().AppName
	}
	switch c.AppLanguage = strings.ToLower(strings.TrimSpace(c.AppLanguage)); {
	case c.AppLanguage == "":
		c.AppLanguage = i18n.Default
	case !i18n.Supported(c.AppLanguage):
		return configErr("app_language %q: want one of %s", c.AppLanguage, strings.Join(i18n.Shipped, ", "))
	}
	if err := c.Auth.validate(); err != nil {
		return err
	}
	switch {
	case c.SecretKey == "" && c.Dev:
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		c.SecretKey = hex.EncodeToString(key)
		c.GeneratedSecret = true
	case c.SecretKey == "":
		return configErr("secret_key is empty: set it in the config file or APP_SECRET_KEY (or set dev: true)")
	case len(c.SecretKey) < MinSecretKeyLen && !c.Dev:
		return configErr("secret_key is shorter than %d bytes", MinSecretKeyLen)
	}
	return nil
}

// validate checks the sign-in settings: single sign-on, when on, has what
// the flow needs, and some way to sign in is left.
func (a *Auth) validate() error {
	o := &a.OIDC
	o.Issuer = strings.TrimSpace(o.Issuer)
	if !o.Enabled() {
		if !a.PasswordLogin {
			return configErr("auth.password_login is false and auth.oidc.issuer is empty: nobody could sign in")
		}
		return nil
	}
	u, err := url.Parse(o.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return configErr("auth.oidc.issuer %q is not an http(s) URL", o.Issuer)
	}
	if strings.TrimSpace(o.ClientID) == "" {
		return configErr("auth.oidc.client_id is empty")
	}
	if !slices.Contains(o.Scopes, "openid") {
		o.Scopes = append([]string{"openid"}, o.Scopes...)
	}
	if strings.TrimSpace(o.Button) == "" {
		o.Button = Default().Auth.OIDC.Button
	}
	if strings.TrimSpace(o.RolesClaim) == "" {
		o.RolesClaim = Default().Auth.OIDC.RolesClaim
	}
	if o.Registration && strings.TrimSpace(o.RegistrationRole) == "" && len(o.RolesMapping) == 0 {
		return configErr("auth.oidc.registration is on with no registration_role and no roles_mapping: new users would have no role")
	}
	for i, d := range o.EmailDomains {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "" || strings.ContainsAny(d, "@*?[]^$ /\\") || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") {
			return configErr("auth.oidc.email_domains: %q is not a domain (exact names such as example.com, no patterns)", o.EmailDomains[i])
		}
		o.EmailDomains[i] = d
	}
	return nil
}
