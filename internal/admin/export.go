package admin

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"musicadmin/internal/datamodel"
	"musicadmin/internal/i18n"
)

const (
	// exportBuffer is how much CSV the export gathers before handing it to
	// the connection: big enough that a write to the socket carries
	// hundreds of rows, small enough that memory stays flat.
	exportBuffer = 64 << 10
	// exportFlushEvery is how long rows may sit in the buffer before they
	// are sent anyway, so a sparse filter over a big table still shows
	// progress in the browser's download bar.
	exportFlushEvery = time.Second
	// exportWriteWindow is how long a write may take from the last flush.
	// The server's WriteTimeout counts from the request, so it would cut
	// any export longer than a minute however fast the client reads;
	// pushing the deadline forward as rows flow keeps its protection
	// against a client that stops reading (one window, then the write
	// fails) without capping the export's size.
	exportWriteWindow = 60 * time.Second
)

// formulaTriggers are the first characters that make a spreadsheet read a
// cell as a formula (OWASP "CSV Injection"): the contract prefixes such a
// cell with ' so it is shown as text.
const formulaTriggers = "=+-@\t\r"

// csvCell returns s as it is safe to put in an exported cell.
func csvCell(s string) string {
	if s != "" && strings.IndexByte(formulaTriggers, s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// writeCSVRecord writes fields as one RFC 4180 record: fields apart by
// commas, a field with a comma, a double quote, a CR or an LF (or a space
// at either end, which readers may trim) in double quotes with its quotes
// doubled, and CRLF at the end. encoding/csv is not used because with
// UseCRLF it rewrites what is inside a quoted field (it drops a lone CR
// and turns LF into CRLF): here every byte of a value comes out as stored.
func writeCSVRecord(w *bufio.Writer, fields []string) error {
	for i, f := range fields {
		if i > 0 {
			_ = w.WriteByte(',')
		}
		if !needsQuotes(f) {
			_, _ = w.WriteString(f)
			continue
		}
		_ = w.WriteByte('"')
		for {
			j := strings.IndexByte(f, '"')
			if j < 0 {
				break
			}
			_, _ = w.WriteString(f[:j+1])
			_ = w.WriteByte('"')
			f = f[j+1:]
		}
		_, _ = w.WriteString(f)
		_ = w.WriteByte('"')
	}
	// A bufio.Writer keeps its first error and returns it from every
	// later write: checking the last one is checking them all.
	_, err := w.WriteString("\r\n")
	return err
}

// quoted marks the bytes that put a field in quotes wherever they are.
var quoted = [256]bool{',': true, '"': true, '\r': true, '\n': true}

// needsQuotes reports whether f must be quoted: it holds a comma, a double
// quote, a CR or an LF, or starts or ends with a space. (A table, not
// strings.ContainsAny, which builds its set again on every call: this runs
// for every cell of an export.)
func needsQuotes(f string) bool {
	if f == "" {
		return false
	}
	if f[0] == ' ' || f[len(f)-1] == ' ' {
		return true
	}
	for i := 0; i < len(f); i++ {
		if quoted[f[i]] {
			return true
		}
	}
	return false
}

// exportURL is the export of the list p shows: its filters, search and
// sort, not its page.
func (v *ModelView) exportURL(p listParams) string {
	q := url.Values{}
	for k, vals := range p.keep {
		q[k] = vals
	}
	if p.q != "" {
		q.Set("q", p.q)
	}
	if s := sortKey(p.sort, p.desc); s != "" {
		q.Set("sort", s)
	}
	u := v.basePath + "/export.csv"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// exportFilename is the download's name, from the view's plural: lower-case
// letters, digits and dashes only, so it needs no quoting in the header.
func (v *ModelView) exportFilename() string {
	var b strings.Builder
	for _, r := range strings.ToLower(v.Plural) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	name := strings.TrimSuffix(b.String(), "-")
	if name == "" {
		name = "export"
	}
	return name + ".csv"
}

// handleExport handles "GET /{view}/export.csv": every record the list
// with the same query string shows, over all its pages, as CSV. The list's
// parameters are read by the list's own code, so a filter the list ignores
// (unknown, or a bad value) is ignored here too, and page and page_size
// mean nothing.
//
// The file has a header row of the list's column labels (in the request's
// language: English without Accept-Language or a chosen one), then a row a
// record; references show their record's label, empty for none. It is
// UTF-8 with no byte-order mark: the contract asks for UTF-8 and a header
// row, and a BOM would make the first label "\ufeffTitle" for every
// program that reads it (Go, Python's csv, pandas, cut and grep) just to
// please Excel's double-click, whose import dialog reads UTF-8 anyway.
//
// Rows stream as Each reads them, through one fixed buffer, so memory does
// not grow with the row count. Until the first bytes leave, an error is
// the usual error page (503 when the database is down); after that the
// status is sent, and a failure can only cut the download, which it does
// by aborting the connection so the client sees an error rather than a
// short file that looks whole.
func (v *ModelView) handleExport(w http.ResponseWriter, r *http.Request) {
	p := v.parseList(r.URL.Query())
	q := datamodel.Query{Filters: p.filters, Search: p.q, SearchFields: v.search, Sort: p.sort, Desc: p.desc}

	rc := http.NewResponseController(w)
	out := &exportWriter{w: w, rc: rc, filename: v.exportFilename()}
	if r.Method == http.MethodHead {
		out.start()
		return
	}
	out.extendDeadline()
	buf := bufio.NewWriterSize(out, exportBuffer)

	rec := make([]string, len(v.list))
	for i, f := range v.list {
		rec[i] = csvCell(i18n.Text(r.Context(), f.Label)) // the list's columns, in the request's language
	}
	var writeErr error
	if writeErr = writeCSVRecord(buf, rec); writeErr != nil {
		v.exportFailed(w, r, out, writeErr, 0)
		return
	}
	rows := 0
	// A timer, not a clock read per row, says when rows have sat long
	// enough: the flag costs a load per row, time.Now a system clock read.
	var due atomic.Bool
	timer := time.AfterFunc(exportFlushEvery, func() { due.Store(true) })
	defer timer.Stop()
	// Each record is text at once and kept by nobody: the store may hand
	// the same one refilled (datamodel.Reuser).
	err := datamodel.EachReused(r.Context(), v.Data, q, func(record datamodel.Record) error {
		for i, f := range v.list {
			rec[i] = csvCell(f.Kind.Text(record.Values[f.Name]))
		}
		if writeErr = writeCSVRecord(buf, rec); writeErr != nil {
			return writeErr
		}
		rows++
		if due.Load() {
			due.Store(false)
			if writeErr = out.flush(buf); writeErr != nil {
				return writeErr
			}
			timer.Reset(exportFlushEvery)
		}
		return nil
	})
	if err == nil {
		err = out.flush(buf)
		writeErr = err
	}
	if err != nil {
		if writeErr != nil && errors.Is(err, writeErr) {
			// A write to the client failed: it went away or stopped
			// reading. Nothing the server did wrong, and nobody to tell.
			v.admin.log.Info("export stopped: client went away", "view", v.Name, "rows", rows, "err", err)
			return
		}
		v.exportFailed(w, r, out, err, rows)
		return
	}
	v.admin.log.Debug("export done", "view", v.Name, "rows", rows)
}

// exportFailed answers an export that failed with err after rows rows:
// with the error page while nothing is sent, else by aborting the
// response.
func (v *ModelView) exportFailed(w http.ResponseWriter, r *http.Request, out *exportWriter, err error, rows int) {
	if !out.started {
		v.admin.ui.Fail(w, r, err)
		return
	}
	if errors.Is(err, context.Canceled) || r.Context().Err() != nil {
		v.admin.log.Info("export stopped: client went away", "view", v.Name, "rows", rows, "err", err)
		return
	}
	v.admin.log.Error("export cut short", "view", v.Name, "rows", rows, "err", err)
	// net/http closes the connection without ending the chunked body, and
	// logs nothing: the one line above is the record of it.
	panic(http.ErrAbortHandler)
}

// exportWriter is what the export's buffer writes to: the response, whose
// status and headers it sends with the first bytes, so that an error before
// them can still be an error page.
type exportWriter struct {
	w        http.ResponseWriter
	rc       *http.ResponseController
	filename string
	started  bool
}

// An exportWriter is what the CSV writer's buffer writes to.
var _ io.Writer = (*exportWriter)(nil)

func (e *exportWriter) start() {
	e.started = true
	h := e.w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+e.filename+`"`)
	h.Set("Cache-Control", "no-store, private, max-age=0")
	e.w.WriteHeader(http.StatusOK)
}

func (e *exportWriter) Write(b []byte) (int, error) {
	if !e.started {
		e.start()
	}
	return e.w.Write(b)
}

// flush sends what the buffer holds to the client now, and gives the
// writes that follow a new window.
func (e *exportWriter) flush(buf *bufio.Writer) error {
	if err := buf.Flush(); err != nil {
		return err
	}
	if err := e.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	e.extendDeadline()
	return nil
}

// extendDeadline moves the write deadline exportWriteWindow ahead. A
// writer that cannot set one (a test recorder) has no deadline to move.
func (e *exportWriter) extendDeadline() {
	_ = e.rc.SetWriteDeadline(time.Now().Add(exportWriteWindow))
}
