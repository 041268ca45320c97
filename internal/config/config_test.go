package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"musicadmin/internal/config"
)

const goodKey = "0123456789abcdef0123456789abcdef" // 32 bytes

// envOf returns a LookupEnv over vars only, so the tests never see the real
// environment.
func envOf(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const fullFile = `
app_name: Test Admin
secret_key: "` + goodKey + `"
database:
  driver: mysql
  dsn: "u:p@tcp(db:3306)/music?parseTime=true"
  sqlite_synchronous: full
server:
  addr: "127.0.0.1:9000"
  secure_cookies: true
  metrics_addr: "127.0.0.1:9100"
  drain_delay: 1500ms
`

func TestLoad(t *testing.T) {
	tests := []struct {
		name string
		file string
		env  map[string]string
		want config.Config
	}{
		{
			name: "every key from the file",
			file: fullFile,
			want: config.Config{AppName: "Test Admin", SecretKey: goodKey,
				Database: config.Database{Driver: "mysql", DSN: "u:p@tcp(db:3306)/music?parseTime=true", SQLiteSynchronous: "FULL"},
				Server:   config.Server{Addr: "127.0.0.1:9000", SecureCookies: true, MetricsAddr: "127.0.0.1:9100", DrainDelay: config.Duration(1500 * time.Millisecond)}},
		},
		{
			name: "absent keys keep their defaults",
			file: "secret_key: " + goodKey + "\n",
			want: config.Config{AppName: "Music Admin", SecretKey: goodKey,
				Database: config.Database{Driver: "sqlite", DSN: "app.db", SQLiteSynchronous: "NORMAL"},
				Server:   config.Server{Addr: ":8080"}},
		},
		{
			name: "roles that must enroll a second factor, from the file and then the environment",
			file: "secret_key: " + goodKey + "\nauth:\n  totp:\n    required_for_roles: [Admin]\n",
			want: config.Config{AppName: "Music Admin", SecretKey: goodKey,
				Database: config.Database{Driver: "sqlite", DSN: "app.db", SQLiteSynchronous: "NORMAL"},
				Server:   config.Server{Addr: ":8080"}, Auth: config.Auth{TOTP: config.TOTP{RequiredForRoles: []string{"Admin"}}}},
		},
		{
			name: "required_for_roles from the environment, comma separated",
			file: "secret_key: " + goodKey + "\nauth:\n  totp:\n    required_for_roles: [Admin]\n",
			env:  map[string]string{"APP_AUTH_TOTP_REQUIRED_FOR_ROLES": " Admin, Editor ,"},
			want: config.Config{AppName: "Music Admin", SecretKey: goodKey,
				Database: config.Database{Driver: "sqlite", DSN: "app.db", SQLiteSynchronous: "NORMAL"},
				Server:   config.Server{Addr: ":8080"}, Auth: config.Auth{TOTP: config.TOTP{RequiredForRoles: []string{"Admin", "Editor"}}}},
		},
		{
			name: "an empty file is all defaults",
			file: "",
			env:  map[string]string{"APP_SECRET_KEY": goodKey},
			want: config.Config{AppName: "Music Admin", SecretKey: goodKey,
				Database: config.Database{Driver: "sqlite", DSN: "app.db", SQLiteSynchronous: "NORMAL"},
				Server:   config.Server{Addr: ":8080"}},
		},
		{
			name: "every key overridden by APP_* variables",
			file: fullFile,
			env: map[string]string{
				"APP_APP_NAME":                    "From Env",
				"APP_SECRET_KEY":                  goodKey + "-env",
				"APP_DATABASE_DRIVER":             "sqlite",
				"APP_DATABASE_DSN":                "env.db",
				"APP_SERVER_ADDR":                 ":7070",
				"APP_SERVER_SECURE_COOKIES":       "false",
				"APP_DATABASE_SQLITE_SYNCHRONOUS": "normal",
				"APP_SERVER_METRICS_ADDR":         "127.0.0.1:9200",
				"APP_SERVER_DRAIN_DELAY":          "2s",
			},
			want: config.Config{AppName: "From Env", SecretKey: goodKey + "-env",
				Database: config.Database{Driver: "sqlite", DSN: "env.db", SQLiteSynchronous: "NORMAL"},
				Server:   config.Server{Addr: ":7070", SecureCookies: false, MetricsAddr: "127.0.0.1:9200", DrainDelay: config.Duration(2 * time.Second)}},
		},
		{
			name: "boolean override to true and driver in any case",
			file: "secret_key: " + goodKey + "\n",
			env:  map[string]string{"APP_SERVER_SECURE_COOKIES": "TRUE", "APP_DATABASE_DRIVER": " MySQL ", "APP_DATABASE_DSN": "u@tcp(h)/d"},
			want: config.Config{AppName: "Music Admin", SecretKey: goodKey,
				Database: config.Database{Driver: "mysql", DSN: "u@tcp(h)/d", SQLiteSynchronous: "NORMAL"},
				Server:   config.Server{Addr: ":8080", SecureCookies: true}},
		},
		{
			name: "an empty boolean variable leaves the file's value",
			file: fullFile,
			env:  map[string]string{"APP_SERVER_SECURE_COOKIES": ""},
			want: config.Config{AppName: "Test Admin", SecretKey: goodKey,
				Database: config.Database{Driver: "mysql", DSN: "u:p@tcp(db:3306)/music?parseTime=true", SQLiteSynchronous: "FULL"},
				Server:   config.Server{Addr: "127.0.0.1:9000", SecureCookies: true, MetricsAddr: "127.0.0.1:9100", DrainDelay: config.Duration(1500 * time.Millisecond)}},
		},
		{
			name: "a blank app name falls back to the default",
			file: "app_name: '  '\nsecret_key: " + goodKey + "\n",
			want: config.Config{AppName: "Music Admin", SecretKey: goodKey,
				Database: config.Database{Driver: "sqlite", DSN: "app.db", SQLiteSynchronous: "NORMAL"},
				Server:   config.Server{Addr: ":8080"}},
		},
		{
			name: "a 32-byte key of multi-byte characters counts bytes",
			file: "secret_key: " + strings.Repeat("é", 16) + "\n",
			want: config.Config{AppName: "Music Admin", SecretKey: strings.Repeat("é", 16),
				Database: config.Database{Driver: "sqlite", DSN: "app.db", SQLiteSynchronous: "NORMAL"},
				Server:   config.Server{Addr: ":8080"}},
		},
		{
			name: "dev mode accepts a short key",
			file: "dev: true\nsecret_key: short\n",
			want: config.Config{AppName: "Music Admin", SecretKey: "short", Dev: true,
				Database: config.Database{Driver: "sqlite", DSN: "app.db", SQLiteSynchronous: "NORMAL"},
				Server:   config.Server{Addr: ":8080"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := config.Load(writeFile(t, tt.file), envOf(tt.env))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			// The cases state the sign-in settings they change; the
			// others are the defaults.
			want := tt.want
			if want.AppLanguage == "" {
				want.AppLanguage = "en"
			}
			auth := config.Default().Auth
			auth.TOTP = want.Auth.TOTP
			want.Auth = auth
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Load =\n %+v\nwant\n %+v", got, want)
			}
		})
	}
}

// TestLoadOIDC: single sign-on's keys from the file and the environment,
// the client secret from APP_AUTH_OIDC_CLIENT_SECRET, domains lowered,
// openid always among the scopes.
func TestLoadOIDC(t *testing.T) {
	file := "secret_key: " + goodKey + `
auth:
  password_login: false
  oidc:
    issuer: https://idp.example/realms/music
    client_id: musicadmin
    scopes: [profile, email]
    roles_mapping: {admins: [Admin], staff: [ReadOnly]}
    sync_roles_at_login: false
    registration: true
    email_domains: [Example.COM]
`
	cfg, err := config.Load(writeFile(t, file), envOf(map[string]string{"APP_AUTH_OIDC_CLIENT_SECRET": "from-env"}))
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Auth.OIDC
	want := config.OIDC{Issuer: "https://idp.example/realms/music", ClientID: "musicadmin", ClientSecret: "from-env",
		Scopes: []string{"openid", "profile", "email"}, Button: "Sign in with SSO", RolesClaim: "groups",
		RolesMapping: map[string][]string{"admins": {"Admin"}, "staff": {"ReadOnly"}}, Registration: true,
		RegistrationRole: "ReadOnly", EmailDomains: []string{"example.com"}}
	if cfg.Auth.PasswordLogin || !o.Enabled() || !reflect.DeepEqual(o, want) {
		t.Errorf("auth = %+v\nwant oidc %+v and no password login", cfg.Auth, want)
	}
	if d := config.Default().Auth; !d.PasswordLogin || d.OIDC.Enabled() || !d.OIDC.SyncRolesAtLogin || d.OIDC.Registration {
		t.Errorf("default auth = %+v: want password login on, sign-on off, sync on, registration off", d)
	}
}

func TestDevModeGeneratesASecret(t *testing.T) {
	for _, tt := range []struct {
		name string
		file string
		env  map[string]string
	}{
		{"dev in the file", "dev: true\n", nil},
		{"dev from APP_DEV", "", map[string]string{"APP_DEV": "1"}},
		{"APP_SECRET_KEY set empty in dev", "dev: true\nsecret_key: " + goodKey + "\n", map[string]string{"APP_SECRET_KEY": ""}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.file)
			a, err := config.Load(path, envOf(tt.env))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			b, err := config.Load(path, envOf(tt.env))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !a.Dev || !a.GeneratedSecret {
				t.Errorf("Dev=%v GeneratedSecret=%v, want both true", a.Dev, a.GeneratedSecret)
			}
			if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(a.SecretKey) {
				t.Errorf("generated key %q is not 32 random bytes in hex", a.SecretKey)
			}
			if a.SecretKey == b.SecretKey {
				t.Error("two loads generated the same key: it is not random")
			}
		})
	}
}

// TestShippedConfig loads the repository's config.yaml, the one `make run`
// uses on a fresh clone: it must be valid as it is.
func TestShippedConfig(t *testing.T) {
	cfg, err := config.Load(filepath.Join("..", "..", "config.yaml"), envOf(nil))
	if err != nil {
		t.Fatalf("the shipped config.yaml does not load: %v", err)
	}
	if cfg.Database.Driver != config.DriverSQLite || cfg.Database.DSN != "app.db" || cfg.Server.Addr != ":8080" {
		t.Errorf("shipped defaults = %+v %+v, want sqlite app.db on :8080", cfg.Database, cfg.Server)
	}
	if cfg.AppName != "Music Admin" {
		t.Errorf("app name = %q", cfg.AppName)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		path   string // when set, instead of a file with body file
		file   string
		env    map[string]string
		want   string // substring of the message
		secret string // must not appear in the message
	}{
		{name: "missing file", path: filepath.Join(dir, "nope.yaml"), want: "cannot read"},
		{name: "a directory", path: dir, want: "cannot read"},
		{name: "bad YAML syntax", file: "database:\n  driver: [sqlite\n", want: "bad YAML"},
		{name: "bad YAML indentation", file: "database:\n driver: sqlite\n  dsn: x\n", want: "bad YAML"},
		{name: "unknown key", file: "secret_key: " + goodKey + "\ndatabse:\n  driver: sqlite\n", want: "databse"},
		{name: "wrong type", file: "secret_key: " + goodKey + "\nserver:\n  secure_cookies: maybe\n", want: "bad YAML"},
		{name: "unknown driver in file", file: "secret_key: " + goodKey + "\ndatabase:\n  driver: oracle\n", want: `unknown database driver "oracle"`},
		{name: "unknown driver from env", file: "secret_key: " + goodKey + "\n", env: map[string]string{"APP_DATABASE_DRIVER": "oracle"}, want: `unknown database driver "oracle"`},
		{name: "empty driver", file: "secret_key: " + goodKey + "\ndatabase:\n  driver: ''\n", want: "unknown database driver"},
		{name: "empty dsn", file: "secret_key: " + goodKey + "\n", env: map[string]string{"APP_DATABASE_DSN": " "}, want: "dsn is empty"},
		{name: "empty addr", file: "secret_key: " + goodKey + "\n", env: map[string]string{"APP_SERVER_ADDR": ""}, want: "addr is empty"},
		{name: "empty secret outside dev", file: "app_name: x\n", want: "secret_key is empty"},
		{name: "secret emptied by APP_SECRET_KEY", file: "secret_key: " + goodKey + "\n", env: map[string]string{"APP_SECRET_KEY": ""}, want: "secret_key is empty"},
		{name: "dev turned off by APP_DEV", file: "dev: true\n", env: map[string]string{"APP_DEV": "false"}, want: "secret_key is empty"},
		{name: "short secret outside dev", file: "secret_key: " + goodKey[:31] + "\n", want: "shorter than 32 bytes", secret: goodKey[:31]},
		{name: "short secret from env", file: "", env: map[string]string{"APP_SECRET_KEY": "tiny-secret-value"}, want: "shorter than 32 bytes", secret: "tiny-secret-value"},
		{name: "bad boolean", file: "secret_key: " + goodKey + "\n", env: map[string]string{"APP_SERVER_SECURE_COOKIES": "yes please"}, want: "APP_SERVER_SECURE_COOKIES"},
		{name: "bad APP_DEV", file: "", env: map[string]string{"APP_DEV": "sometimes"}, want: "APP_DEV"},
		{name: "bad sqlite_synchronous", file: "secret_key: " + goodKey + "\ndatabase:\n  sqlite_synchronous: off\n", want: "want NORMAL or FULL"},
		{name: "bad drain_delay", file: "secret_key: " + goodKey + "\nserver:\n  drain_delay: soon\n", want: "not a duration"},
		{name: "negative APP_SERVER_DRAIN_DELAY", file: "secret_key: " + goodKey + "\n", env: map[string]string{"APP_SERVER_DRAIN_DELAY": "-1s"}, want: "APP_SERVER_DRAIN_DELAY"},
		{name: "an unshipped language", file: "secret_key: " + goodKey + "\napp_language: fr\n", want: `app_language "fr"`},
		{name: "no way to sign in", file: "secret_key: " + goodKey + "\nauth:\n  password_login: false\n", want: "nobody could sign in"},
		{name: "issuer not a URL", file: "secret_key: " + goodKey + "\nauth:\n  oidc:\n    issuer: 'ftp://idp'\n    client_id: x\n", want: "not an http(s) URL"},
		{name: "no client id", file: "secret_key: " + goodKey + "\nauth:\n  oidc:\n    issuer: https://idp.example\n", want: "client_id is empty"},
		{name: "a domain pattern", file: "secret_key: " + goodKey + "\nauth:\n  oidc:\n    issuer: https://idp.example\n    client_id: x\n    email_domains: ['*.example.com']\n", want: "no patterns"},
		{name: "a domain regexp", file: "secret_key: " + goodKey + "\nauth:\n  oidc:\n    issuer: https://idp.example\n    client_id: x\n    email_domains: ['example\\.com$']\n", want: "no patterns"},
		{name: "registration with no role", file: "secret_key: " + goodKey + "\nauth:\n  oidc:\n    issuer: https://idp.example\n    client_id: x\n    registration: true\n    registration_role: ''\n", want: "no registration_role"},
		{name: "bad APP_AUTH_PASSWORD_LOGIN", file: "secret_key: " + goodKey + "\n", env: map[string]string{"APP_AUTH_PASSWORD_LOGIN": "nah"}, want: "APP_AUTH_PASSWORD_LOGIN"},
		{name: "metrics on the public address", file: "secret_key: " + goodKey + "\nserver:\n  addr: ':8080'\n  metrics_addr: ':8080'\n", want: "metrics_addr must differ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == "" {
				path = writeFile(t, tt.file)
			}
			cfg, err := config.Load(path, envOf(tt.env))
			if err == nil {
				t.Fatalf("Load succeeded with %+v, want an error containing %q", cfg, tt.want)
			}
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Errorf("error %T is not a *config.Error (exit status 2)", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not contain %q", msg, tt.want)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			if tt.secret != "" && strings.Contains(msg, tt.secret) {
				t.Errorf("error %q reveals the secret", msg)
			}
			if !reflect.DeepEqual(cfg, config.Config{}) {
				t.Errorf("a failed Load returned %+v, want the zero Config", cfg)
			}
		})
	}
}

func TestValidateDriver(t *testing.T) {
	for _, tt := range []struct {
		driver, want string
		ok           bool
	}{
		{"sqlite", "sqlite", true},
		{"mysql", "mysql", true},
		{" SQLite ", "sqlite", true},
		{"postgres", "postgres", true},
		{"PostgreSQL", "", false},
		{"sqlite3", "", false},
	} {
		c := config.Default()
		c.SecretKey = goodKey
		c.Database.Driver = tt.driver
		err := c.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("Validate(driver %q) = %v, want ok=%v", tt.driver, err, tt.ok)
			continue
		}
		if tt.ok && c.Database.Driver != tt.want {
			t.Errorf("driver %q normalised to %q, want %q", tt.driver, c.Database.Driver, tt.want)
		}
	}
}
