package api_test

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"musicadmin/internal/apptest"
)

// clientDir is where TestGeneratedClient generates the client: inside the
// module, so that the session program builds with the module's go.mod and
// go.sum (and its module cache, offline once filled), under testdata, so
// that ./... and go vet never see it. It is removed at the end and ignored
// by git.
const clientDir = "testdata/clientsession/apiclient"

// ogenConfig asks ogen for the client alone: no server, no OpenTelemetry;
// requests are checked against the document before they are sent.
const ogenConfig = `generator:
  features:
    disable_all: true
    enable:
      - paths/client
      - client/request/validation
`

// TestGeneratedClient generates a typed Go client from the document the
// app serves, with ogen (a tool of go.mod: go tool ogen), builds
// testdata/clientsession with it once, and runs that session on every
// backend: albums and a song created, the song counted by title, moved to
// another album, read back with its album's label, deleted, then a 404.
func TestGeneratedClient(t *testing.T) {
	spec, bin := buildClientSession(t)
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		app := apptest.NewApp(t, b)
		if got := fetchOpenAPI(t, app); !bytes.Equal(got, spec) {
			t.Fatalf("the document on %s differs from the one the client was generated from", b.Name)
		}
		cmd := exec.CommandContext(t.Context(), bin, "-url", app.URL)
		cmd.Env = append(os.Environ(), "API_TOKEN="+app.APIToken(t, apptest.AdminUser))
		out, err := cmd.CombinedOutput()
		t.Logf("clientsession on %s:\n%s", b.Name, out)
		if err != nil {
			t.Fatalf("clientsession on %s: %v", b.Name, err)
		}
		// The session left the albums: the app agrees on what it wrote.
		list := app.API(app.APIToken(t, apptest.AdminUser)).Do(t, http.MethodGet, "/api/v1/albumview/?sort=name", nil).
			Expect(t, "list albums", http.StatusOK)
		if list.JSON["count"] != 2.0 {
			t.Errorf("albums after the session: %s", list.Body)
		}
	})
}

// buildClientSession fetches the document from an app on SQLite,
// generates the client from it into clientDir and builds the session
// program: it returns the document and the program's path.
func buildClientSession(t *testing.T) (spec []byte, bin string) {
	t.Helper()
	spec = fetchOpenAPI(t, apptest.NewApp(t, apptest.SQLite))
	tmp := t.TempDir()
	specPath, cfgPath := filepath.Join(tmp, "openapi.json"), filepath.Join(tmp, "ogen.yml")
	if err := os.WriteFile(specPath, spec, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, []byte(ogenConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(clientDir) })
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), "go", args...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: go %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	run("generate the client", "tool", "ogen", "--config", cfgPath, "--target", clientDir,
		"--package", "apiclient", "--clean", specPath)
	bin = filepath.Join(tmp, "clientsession")
	run("build the session", "build", "-buildvcs=false", "-o", bin, "./testdata/clientsession")
	return spec, bin
}
