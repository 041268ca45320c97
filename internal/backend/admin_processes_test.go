package backend_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"musicadmin/internal/access"
	"musicadmin/internal/app"
	"musicadmin/internal/apptest"
	"musicadmin/internal/config"
	"musicadmin/internal/datamodel"
	"musicadmin/internal/security"
	"musicadmin/internal/server"
)

// The child of TestLastAdminAcrossProcesses deactivates users of the
// database these environment variables name, as its parent tells it.
const (
	adminChildDriverEnv = "LAST_ADMIN_DRIVER"
	adminChildDSNEnv    = "LAST_ADMIN_DSN"
)

// TestLastAdminChild is the other app process of
// TestLastAdminAcrossProcesses: for each line "<round> <user id>" read on
// stdin it deactivates that user through its own backend and accounts
// layer, and answers "<round> ok", "<round> refused" or "<round> error
// <text>". It does nothing when run by hand.
func TestLastAdminChild(t *testing.T) {
	driver := os.Getenv(adminChildDriverEnv)
	if driver == "" {
		t.Skip("run by TestLastAdminAcrossProcesses")
	}
	ctx := context.Background()
	b, err := app.Open(ctx, config.Database{Driver: driver, DSN: os.Getenv(adminChildDSNEnv)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	svc, err := b.Security(nil)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("ready")
	lines := bufio.NewScanner(os.Stdin)
	for lines.Scan() {
		var round int
		var id string
		if _, err := fmt.Sscan(lines.Text(), &round, &id); err != nil {
			t.Fatal(err)
		}
		fmt.Println(round, outcome(svc.Users.Update(ctx, id, datamodel.Values{security.FieldActive: false})))
	}
}

// outcome names the result of a write: ok, refused (the last Admin's
// rule), or the error.
func outcome(err error) string {
	var refused *datamodel.RefusedError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &refused):
		return "refused"
	}
	return "error " + strings.ReplaceAll(err.Error(), "\n", " ")
}

// TestLastAdminAcrossProcesses: two app processes on one MongoDB database,
// each with its own client, backend and accounts layer, deactivate at the
// same moment each a different one of the two active Admins, round after
// round: one is refused as the last Admin's, every time, so one active
// Admin stays. What keeps them apart is the lease of the accounts' lock in
// the database: no lock of one process can.
func TestLastAdminAcrossProcesses(t *testing.T) {
	t.Parallel()
	apptest.RequireBackend(t, apptest.MongoDB)
	ctx := context.Background()
	cfg := apptest.NewMigratedDatabase(t, apptest.MongoDB)
	data := apptest.OpenBackend(t, cfg)
	if err := server.SyncPermissions(ctx, data); err != nil {
		t.Fatal(err)
	}
	svc, err := security.NewService(data.AccountModels(), data.Accounts(), data.Audit(), nil)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := svc.RoleByName(ctx, access.AdminRole)
	if err != nil {
		t.Fatal(err)
	}
	var ids [2]string
	for i, name := range []string{"ann", "bob"} {
		ids[i], err = svc.Users.Create(ctx, datamodel.Values{security.FieldUsername: name, "first_name": "F", "last_name": "L",
			"email": name + "@example.com", security.FieldActive: true,
			security.FieldRoles: []datamodel.Ref{{ID: admin.ID}}, security.FieldPassword: datamodel.Hash("$2a$04$x")})
		if err != nil {
			t.Fatal(err)
		}
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestLastAdminChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), adminChildDriverEnv+"="+cfg.Driver, adminChildDSNEnv+"="+cfg.DSN)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = in.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	answers := make(chan string)
	go func() {
		defer close(answers)
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			answers <- lines.Text()
		}
	}()
	answer := func(prefix string) string {
		t.Helper()
		for {
			select {
			case line, ok := <-answers:
				if !ok {
					t.Fatalf("the child ended:\n%s", stderr.String())
				}
				if strings.HasPrefix(line, prefix) {
					return strings.TrimPrefix(line, prefix)
				}
			case <-time.After(time.Minute):
				t.Fatalf("no answer %q from the child:\n%s", prefix, stderr.String())
			}
		}
	}
	answer("ready")

	const rounds = 30
	for round := range rounds {
		// Each side takes a different Admin; they swap every round.
		mine, theirs := ids[round%2], ids[1-round%2]
		if _, err := io.WriteString(in, fmt.Sprintf("%d %s\n", round, theirs)); err != nil {
			t.Fatal(err)
		}
		here := outcome(svc.Users.Update(ctx, mine, datamodel.Values{security.FieldActive: false}))
		there := answer(fmt.Sprintf("%d ", round))
		active := 0
		for _, id := range ids {
			rec, err := svc.Users.Get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Values[security.FieldActive] == true {
				active++
			}
		}
		results := []string{here, there}
		if active != 1 || !(here == "ok" && there == "refused" || here == "refused" && there == "ok") {
			t.Fatalf("round %d: this process %s, the other %s, %d active Admins; want one ok, one refused, 1 active",
				round, results[0], results[1], active)
		}
		for _, id := range ids {
			if err := svc.Users.Update(ctx, id, datamodel.Values{security.FieldActive: true}); err != nil {
				t.Fatal(err)
			}
		}
	}
}
