package transfer

import (
	"context"
	"fmt"
	"os"

	"musicadmin/internal/app"
)

// Copy copies every record of src into dst: it brings dst to the latest
// schema (create-db), refuses it unless it is empty (ErrNotEmpty), dumps src
// into a temporary file in dir ("" for the system's) and loads that file
// into dst. It returns how many records of each model it copied.
//
// A file rather than a pipe from the dump into the load: a load checks all
// of its input before it writes anything, which takes two passes over it,
// and a live source read twice could differ between them. The file holds
// password hashes, so it is created readable by its owner only (CreateTemp
// makes it 0600) and removed afterwards, whatever happened.
func Copy(ctx context.Context, src, dst *app.App, dir string, progress Progress) (Counts, error) {
	if _, err := dst.Schema().Up(ctx); err != nil {
		return nil, fmt.Errorf("copy: create the target's schema: %w", err)
	}
	accounts := dst.Accounts()
	// Refused before the dump, which may take a while, as well as by the
	// load after it.
	if err := refuseNonEmpty(ctx, dst, accounts); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, "musicadmin-copy-*.jsonl")
	if err != nil {
		return nil, fmt.Errorf("copy: temporary file: %w", err)
	}
	defer func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}()
	if _, err := Dump(ctx, src, f, progress); err != nil {
		return nil, err
	}
	return Load(ctx, dst, f, progress)
}
