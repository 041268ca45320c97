package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"musicadmin/internal/app"
	"musicadmin/internal/config"
	"musicadmin/internal/seed"
)

func (a *runner) seedCmd() *cobra.Command {
	var opts seed.Options
	cmd := command("seed", "Fill the catalogue with deterministic demo data", func(cmd *cobra.Command) error {
		if opts.Albums < 0 || opts.Songs < 0 {
			return usageErr("--albums and --songs must not be negative")
		}
		return a.withBackend(cmd.Context(), latest, func(ctx context.Context, cfg config.Config, db *app.App) error {
			if cfg.Database.Driver == config.DriverSQLite {
				opts.SetUp = []string{"PRAGMA cache_size = -262144"} // 256 MiB
			}
			return a.seedCatalog(ctx, db, opts)
		})
	})
	cmd.Flags().IntVar(&opts.Albums, "albums", 100, "albums to add")
	cmd.Flags().IntVar(&opts.Songs, "songs", 1000, "songs to add")
	cmd.Flags().IntVar(&opts.NoAlbumEvery, "no-album-every", 10, "leave every n-th song without an album (0: never)")
	return cmd
}

// seedCatalog writes the demo catalogue of opts into db.
func (a *runner) seedCatalog(ctx context.Context, db *app.App, opts seed.Options) error {
	start := time.Now()
	progress := a.seedProgress(opts.Albums + opts.Songs)
	if err := db.Seed(ctx, opts, progress); err != nil {
		return err
	}
	if err := db.Catalog().OptimizeSearch(ctx); err != nil {
		return err
	}
	fmt.Fprintf(a.env.Stdout, "seeded %d albums and %d songs in %s\n", opts.Albums, opts.Songs,
		time.Since(start).Round(time.Millisecond))
	return nil
}

// seedProgress draws a bar on a terminal and prints a plain line per tenth
// otherwise (a log or CI output has no use for carriage returns).
func (a *runner) seedProgress(total int) seed.Progress {
	if a.env.IsTerminal() {
		bar := progressbar.NewOptions(total, progressbar.OptionSetWriter(a.env.Stderr),
			progressbar.OptionSetDescription("seeding"), progressbar.OptionShowCount(),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
		return func(done, _ int) { _ = bar.Set(done) }
	}
	next := 0
	return func(done, total int) {
		if total == 0 {
			return
		}
		// One line per report that crosses a tenth, however many it
		// crossed: a large batch may cross several at once.
		tenth := done * 100 / total / 10 * 10
		if tenth < next {
			return
		}
		fmt.Fprintf(a.env.Stdout, "seed: %d%% (%d/%d rows)\n", tenth, done, total)
		next = tenth + 10
	}
}
