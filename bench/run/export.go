package main

// The CSV export of every song (issue 10, item 4): after the list pages of
// a size, one GET /songsview/export.csv, read to the end and parsed, timed
// in rows per second, with the app's resident memory during it. The
// done-when (raised from 200,000 rows/s by issue 21): at least 300,000
// rows/s and a peak RSS under 100 MB at a million songs, a peak that must
// not grow with the row count (compare the sizes, and the RSS a tenth of
// the way in with the peak).

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const exportPath = "/songsview/export.csv"

// Targets of the done-when.
const (
	exportTargetRowsPerSec = 300_000
	exportTargetRSSKiB     = 100 * 1000 * 1000 / 1024 // 100 MB
)

var exportFlag = flag.Bool("export", true, "also measure the CSV export of every song: rows/s and the app's peak RSS")

// exportResult is one export of every song.
type exportResult struct {
	rows    int
	bytes   int64
	elapsed time.Duration
	// App memory, KiB: resident before the export, a tenth of the way
	// through it, and the peak during it (VmHWM, reset before the export
	// when the kernel lets us, else the peak since the app started).
	rssBefore, rssTenth, rssPeak int64
	peakSinceStart               bool
}

func (e exportResult) rowsPerSec() float64 { return float64(e.rows) / e.elapsed.Seconds() }

func (e exportResult) meetsTarget() bool {
	return e.rowsPerSec() >= exportTargetRowsPerSec && e.rssPeak > 0 && e.rssPeak < exportTargetRSSKiB
}

// benchExport exports every song of a database of size songs from the app
// at base (process pid) as the logged-in cookie, checks the file (the
// header row, size rows of 3 fields) and measures it.
func benchExport(ctx context.Context, base, cookie string, pid, size int) (*exportResult, error) {
	logf("size %d: export of every song", size)
	res := &exportResult{}
	// Writing 5 to clear_refs resets VmHWM to the current RSS
	// (proc(5)), so the peak read after is the export's own.
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		logf("size %d: cannot reset the app's peak RSS (%v): reporting the peak since it started", size, err)
		res.peakSinceStart = true
	}
	var err error
	if res.rssBefore, err = procStatus(pid, "VmRSS:"); err != nil {
		return nil, err
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+exportPath, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Cookie", cookie)
	client := &http.Client{Transport: &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer client.CloseIdleConnections()

	// A sampler notes the app's RSS once a tenth of the rows are in.
	var rows atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if rows.Load() >= int64(size/10) {
					res.rssTenth, _ = procStatus(pid, "VmRSS:")
					return
				}
			}
		}
	}()

	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		close(stop)
		wg.Wait()
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		close(stop)
		wg.Wait()
		return nil, fmt.Errorf("GET %s: status %d, Content-Type %q", exportPath, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	body := &countingReader{r: resp.Body}
	rd := csv.NewReader(body)
	rd.ReuseRecord = true
	rd.FieldsPerRecord = 3
	header, err := rd.Read()
	if err == nil && strings.Join(header, ",") != "Title,Rating,Album" {
		err = fmt.Errorf("header row %q", header)
	}
	for err == nil {
		if _, err = rd.Read(); err == nil {
			rows.Add(1)
		}
	}
	res.elapsed = time.Since(start)
	close(stop)
	wg.Wait()
	if !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("export: after %d rows: %w", rows.Load(), err)
	}
	res.rows, res.bytes = int(rows.Load()), body.n
	if res.rows != size {
		return nil, fmt.Errorf("export: %d rows, want %d", res.rows, size)
	}
	if res.rssPeak, err = procStatus(pid, "VmHWM:"); err != nil {
		return nil, err
	}
	return res, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// procStatus reads a "kB" line of /proc/pid/status, such as VmRSS:, in KiB.
func procStatus(pid int, key string) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			var kib int64
			_, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kib)
			return kib, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", key, pid)
}

// exportHeader names the columns of the export table.
var exportHeader = []string{"size", "export rows", "MB", "seconds", "rows/s", "RSS before", "RSS at 10%", "peak RSS", "target met"}

func exportCells(r sizeResult) []string {
	e := r.export
	peak := mib(e.rssPeak)
	if e.peakSinceStart {
		peak += " (since start)"
	}
	met := "no"
	if e.meetsTarget() {
		met = "yes"
	}
	return []string{fmt.Sprint(r.size), fmt.Sprint(e.rows), fmt.Sprintf("%.1f", float64(e.bytes)/1e6),
		fmt.Sprintf("%.2f", e.elapsed.Seconds()), fmt.Sprintf("%.0f", e.rowsPerSec()),
		mib(e.rssBefore), mib(e.rssTenth), peak, met}
}

// exportTarget states the done-when under the tables.
var exportTarget = fmt.Sprintf("Target (at 1,000,000 songs): at least %d rows/s, peak RSS under 100 MB.", exportTargetRowsPerSec)

// printExports writes the export line of each size that measured one.
func printExports(w io.Writer, results []sizeResult) {
	var lines []string
	for _, r := range results {
		if r.export != nil {
			lines = append(lines, strings.Join(exportCells(r), "  "))
		}
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintln(w, "CSV export of every song: "+strings.Join(exportHeader, ", "))
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintln(w, exportTarget)
}

// exportMarkdown is the Markdown section of the exports, "" when none ran.
func exportMarkdown(results []sizeResult) string {
	var b strings.Builder
	for _, r := range results {
		if r.export != nil {
			b.WriteString("| " + strings.Join(exportCells(r), " | ") + " |\n")
		}
	}
	if b.Len() == 0 {
		return ""
	}
	return "\n## CSV export of every song (GET " + exportPath + ")\n\n" + exportTarget + "\n\n" +
		"| " + strings.Join(exportHeader, " | ") + " |\n" + "|" + strings.Repeat(" ---: |", len(exportHeader)) + "\n" + b.String()
}
