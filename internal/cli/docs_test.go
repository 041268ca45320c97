package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"musicadmin/internal/apptest"
)

// TestDocsCurlSession runs the seed's session of docs/api.md, as a new
// user pastes it into a shell, against the real binary serving a fresh
// SQLite database: the token from create-token, the albums, the song, the
// count, the move, the include and the delete. The docs are the test's
// script, so a change of the API that breaks them fails here.
func TestDocsCurlSession(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "sed"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("no %s to run the docs' session: %v", tool, err)
			}
			t.Skipf("no %s to run the docs' session: %v", tool, err)
		}
	}
	script := docsSession(t)
	bin := buildApp(t)
	path := writeConfig(t, apptest.NewDatabase(t, apptest.SQLite))
	for _, args := range [][]string{{"create-db"}, adminFlags("admin", "admin@example.com", "a long password")} {
		if out, err := exec.Command(bin, append([]string{"--config", path}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", args[0], err, out)
		}
	}
	p := start(t, bin, "--config", path, "run", "--addr", "127.0.0.1:0")

	// The docs run ./bin/app on the default config and port.
	script = strings.NewReplacer("./bin/app", `"$APP" --config "$CONFIG"`, "http://localhost:8080", "http://"+p.addr).Replace(script)
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Env = append(childEnv(), "APP="+bin, "CONFIG="+path)
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the docs' session failed: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	want := []*regexp.Regexp{
		regexp.MustCompile(`"count":1,.*"result":\[\{"title":"Song1","rating":9,"album":"\d+"\}\]`),
		regexp.MustCompile(`^\{"id":"\d+","version":"[0-9a-f]+","result":\{"title":"Song1","rating":9,"album":"(\d+)"\}\}$`),
		regexp.MustCompile(`"included":\{"album":\{"\d+":"Album2"\}\}`),
		regexp.MustCompile(`^\{"message":"Deleted Song “Song1”\."\}$`),
	}
	var got []string
	for _, l := range lines {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "{") {
			got = append(got, l)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("the session printed %d answers, want %d:\n%s", len(got), len(want), out)
	}
	for i, re := range want {
		if !re.MatchString(got[i]) {
			t.Errorf("answer %d: %s\ndoes not match %s", i+1, got[i], re)
		}
	}
	if strings.Contains(string(out), "mat_") {
		t.Errorf("the session printed the token:\n%s", out)
	}
}

// docsSession returns the shell block under the seed's session heading of
// docs/api.md.
func docsSession(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(raw), "## The seed's shell session, with curl")
	if !ok {
		t.Fatal("docs/api.md has no section of the seed's session")
	}
	_, block, ok := strings.Cut(after, "```sh\n")
	if !ok {
		t.Fatal("the seed's session section has no sh block")
	}
	block, _, ok = strings.Cut(block, "```")
	if !ok {
		t.Fatal("the sh block does not end")
	}
	return block
}
