package transfer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// LineError is a file that is not a dump load can read: the first problem
// found and the number of its line (1-based).
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// lines reads r line by line, the header first, and calls fn with each
// record's line number and item. A line it cannot parse is a *LineError;
// fn's error stops it and is returned as it is.
func (l *loader) lines(r io.Reader, fn func(n int, it item) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	n, records, ended := 0, 0, false
	for sc.Scan() {
		n++
		// JSON text is UTF-8 (RFC 8259), and encoding/json reads bytes
		// that are not as U+FFFD: a title would load as another text
		// than the file's, silently.
		if err := validUTF8(sc.Bytes()); err != nil {
			return &LineError{Line: n, Err: err}
		}
		if n == 1 {
			v, err := readHeader(sc.Bytes())
			if err != nil {
				return &LineError{Line: 1, Err: err}
			}
			l.version = v
			continue
		}
		if ended {
			return &LineError{Line: n, Err: errors.New("a line after the dump's last line")}
		}
		var end trailer
		if strictJSON(sc.Bytes(), &end) == nil && end.End {
			if end.Records != records {
				return &LineError{Line: n, Err: fmt.Errorf("the last line counts %d records, the file holds %d", end.Records, records)}
			}
			ended = true
			continue
		}
		records++
		it, err := l.parse(sc.Bytes())
		if err != nil {
			return &LineError{Line: n, Err: err}
		}
		if err := fn(n, it); err != nil {
			return err
		}
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		return &LineError{Line: n + 1, Err: fmt.Errorf("longer than %d bytes", maxLine)}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("load: read the file: %w", err)
	}
	if n == 0 {
		return &LineError{Line: 1, Err: errors.New("the file is empty: want a dump's header")}
	}
	if !ended {
		return &LineError{Line: n + 1, Err: errors.New(`the file ends before the dump's last line {"end":true,…}: it is cut short`)}
	}
	return nil
}

// validUTF8 returns an error naming the first byte of line that is not
// part of a UTF-8 character (1-based, as an editor's column of bytes), or
// nil.
func validUTF8(line []byte) error {
	if utf8.Valid(line) {
		return nil
	}
	for i := 0; i < len(line); {
		r, size := utf8.DecodeRune(line[i:])
		if r == utf8.RuneError && size == 1 {
			return fmt.Errorf("not valid UTF-8 at byte %d (0x%02x): a dump is UTF-8 text", i+1, line[i])
		}
		i += size
	}
	return nil
}

// readHeader checks the first line and returns the file's version.
func readHeader(line []byte) (int, error) {
	var h header
	if err := strictJSON(line, &h); err != nil || h.Format != Format {
		return 0, fmt.Errorf(`not a dump: want the header {"format":%q,"version":%d}`, Format, Version)
	}
	switch {
	case h.Version > Version:
		return 0, fmt.Errorf("dump format version %d is newer than this app reads (versions %d to %d): load it with the app that wrote it, or a newer one",
			h.Version, MinVersion, Version)
	case h.Version < MinVersion:
		return 0, fmt.Errorf("dump format version %d: this app reads versions %d to %d", h.Version, MinVersion, Version)
	}
	return h.Version, nil
}

// strictJSON decodes one JSON value into v, refusing unknown keys and
// anything after the value.
func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	return nil
}
