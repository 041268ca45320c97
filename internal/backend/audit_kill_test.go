package backend_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"musicadmin/internal/app"
	"musicadmin/internal/apptest"
	"musicadmin/internal/audit"
	"musicadmin/internal/backend"
	"musicadmin/internal/config"
	"musicadmin/internal/datamodel"
)

// The child of TestAuditSurvivesKill writes through the backend these
// environment variables name, until it is killed.
const (
	killDriverEnv = "AUDIT_KILL_DRIVER"
	killDSNEnv    = "AUDIT_KILL_DSN"
	killRunEnv    = "AUDIT_KILL_RUN" // each child's names differ from the last one's
)

// TestAuditKillChild is the process TestAuditSurvivesKill kills: it creates
// albums, renames every second one and deletes every fifth, each write
// audited, and prints a line per round so the parent knows it is busy. It
// does nothing when run by hand.
func TestAuditKillChild(t *testing.T) {
	driver := os.Getenv(killDriverEnv)
	if driver == "" {
		t.Skip("run by TestAuditSurvivesKill")
	}
	b, err := app.Open(context.Background(), config.Database{Driver: driver, DSN: os.Getenv(killDSNEnv)})
	if err != nil {
		t.Fatal(err)
	}
	albums := b.Catalog().Albums
	ctx := audit.With(context.Background(), audit.Actor{Username: "killer", View: "albumview"})
	for i := 0; ; i++ {
		name := fmt.Sprintf("K%s-%06d", os.Getenv(killRunEnv), i)
		id, err := albums.Create(ctx, datamodel.Values{"name": name})
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if err := albums.Update(ctx, id, datamodel.Values{"name": name + "-b"}); err != nil {
				t.Fatal(err)
			}
		}
		if i%5 == 0 {
			if err := albums.Delete(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		fmt.Println("round", i)
	}
}

// TestAuditSurvivesKill: a process killed (SIGKILL) in the middle of
// audited writes leaves every change with its entry and every entry with
// its change: on SQL the two are one transaction; on MongoDB the intent
// left behind is settled at the next start (RecoverAudit).
func TestAuditSurvivesKill(t *testing.T) {
	apptest.ForEachBackendParallel(t, func(t *testing.T, b apptest.Backend) {
		cfg := apptest.NewMigratedDatabase(t, b)
		for run := range 10 {
			killChild(t, cfg, run, 5+run*3)
		}
		data := apptest.OpenBackend(t, cfg)
		if m, ok := data.Backend.(*backend.Mongo); ok {
			// The next start after AuditSettleAfter, without the wait.
			if _, err := m.Store().RecoverAudit(context.Background(), 0); err != nil {
				t.Fatal(err)
			}
		}
		checkAuditMatches(t, data)
	})
}

// killChild starts the child on cfg, lets it run rounds rounds and kills it.
func killChild(t *testing.T, cfg config.Database, run, rounds int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestAuditKillChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), killDriverEnv+"="+cfg.Driver, killDSNEnv+"="+cfg.DSN, fmt.Sprintf("%s=%d", killRunEnv, run))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	seen := 0
	deadline := time.Now().Add(time.Minute)
	for seen < rounds && lines.Scan() {
		if strings.HasPrefix(lines.Text(), "round ") {
			seen++
		}
		if time.Now().After(deadline) {
			break
		}
	}
	// At a random moment of the next round, not at a round's end.
	time.Sleep(time.Duration(rand.Int64N(int64(3 * time.Millisecond))))
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if seen < rounds {
		t.Fatalf("the child wrote %d rounds before it ended, want %d:\n%s", seen, rounds, stderr.String())
	}
}

// checkAuditMatches compares the albums with their audit entries: each
// album is created once, renamed iff its name says so, not deleted; each
// album that is gone was created and deleted once; no entry names an album
// that never was.
func checkAuditMatches(t *testing.T, data *app.App) {
	t.Helper()
	ctx := context.Background()
	names := map[string]string{}
	err := data.Catalog().Albums.Each(ctx, datamodel.Query{}, func(r datamodel.Record) error {
		names[r.ID], _ = r.Values["name"].(string)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	byRecord := map[string]map[string]int{}
	err = data.Audit().Entries().Each(ctx, datamodel.Query{}, func(r datamodel.Record) error {
		id, _ := r.Values["record_id"].(string)
		action, _ := r.Values["action"].(string)
		if byRecord[id] == nil {
			byRecord[id] = map[string]int{}
		}
		byRecord[id][action]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("no album survived: the child did not write")
	}
	for id, name := range names {
		got := byRecord[id]
		renamed := 0
		if strings.HasSuffix(name, "-b") {
			renamed = 1
		}
		if got[audit.ActionCreate] != 1 || got[audit.ActionUpdate] != renamed || got[audit.ActionDelete] != 0 {
			t.Errorf("album %s %q has entries %v, want create 1, update %d, delete 0", id, name, got, renamed)
		}
	}
	for id, got := range byRecord {
		if _, alive := names[id]; alive {
			continue
		}
		if got[audit.ActionCreate] != 1 || got[audit.ActionDelete] != 1 {
			t.Errorf("album %s is gone with entries %v, want one create and one delete", id, got)
		}
	}
	t.Logf("%d albums, %d records in the audit log", len(names), len(byRecord))
}
