package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"
)

// StaticPrefix is where the server serves static/.
const StaticPrefix = "/static/"

// hashLen is how many hex digits of a file's SHA-256 its hashed name
// carries: enough that a changed file gets a new name.
const hashLen = 8

// StaticFile is a file of static/ and its content-hashed name.
type StaticFile struct {
	Name   string // under static/, e.g. "app.css"
	Hashed string // e.g. "app.3f2a1b9c.css": the name a page links
	// ETag is a weak validator of the content, the same for every
	// content coding of it (compressed or not), for a plain name's
	// revalidation.
	ETag string
}

// staticFiles are the files of static/ by plain and by hashed name.
type staticFiles struct {
	byName, byHashed map[string]StaticFile
}

// static hashes every file of static/ once, at the first use.
var static = sync.OnceValue(func() staticFiles {
	t := staticFiles{byName: map[string]StaticFile{}, byHashed: map[string]StaticFile{}}
	err := fs.WalkDir(FS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := FS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		h := hex.EncodeToString(sum[:])
		name := strings.TrimPrefix(p, "static/")
		f := StaticFile{Name: name, Hashed: hashedName(name, h[:hashLen]), ETag: `W/"` + h[:2*hashLen] + `"`}
		t.byName[name], t.byHashed[f.Hashed] = f, f
		return nil
	})
	if err != nil {
		panic(fmt.Sprintf("web: hash static files: %v", err)) // the files are in the binary
	}
	for h := range t.byHashed {
		if _, ok := t.byName[h]; ok {
			panic("web: the hashed name " + h + " is also a file's plain name")
		}
	}
	return t
})

// hashedName puts hash before the extension of name: "app.css" with
// "3f2a1b9c" is "app.3f2a1b9c.css"; a name without one ends in it.
func hashedName(name, hash string) string {
	dir, base := path.Split(name)
	ext := path.Ext(base)
	if ext == "" || ext == base {
		return dir + base + "." + hash
	}
	return dir + strings.TrimSuffix(base, ext) + "." + hash + ext
}

// StaticURL returns the URL a page links for the file name of static/
// ("app.css", "swagger-ui/swagger-ui.css"): its content-hashed name under
// StaticPrefix, which the server lets browsers cache for good. It is an
// error to name no such file, so a template with a typo fails its test.
func StaticURL(name string) (string, error) {
	f, ok := static().byName[name]
	if !ok {
		return "", fmt.Errorf("web: no static file %q", name)
	}
	return StaticPrefix + f.Hashed, nil
}

// LookupStatic returns the file a request under StaticPrefix names (the
// part after it): by its hashed name, which is immutable (the name changes
// with the content), or by its plain name, which is not. ok is false for
// any other name, a hash of some other content among them.
func LookupStatic(name string) (f StaticFile, immutable, ok bool) {
	t := static()
	if f, ok := t.byHashed[name]; ok {
		return f, true, true
	}
	f, ok = t.byName[name]
	return f, false, ok
}
