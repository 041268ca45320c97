package server

import (
	"net/http"

	"github.com/klauspost/compress/gzhttp"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// compressMinSize is the smallest body compressed: below it the answer
// fits in one packet anyway, and the error answers (a 413, a 405) stay
// plain.
const compressMinSize = 1024

// compressTypes are the answers compressed: the pages, the JSON of the API
// and the lookups, the CSV export, and the text static files. Anything else
// (an image already compressed) passes as it is.
var compressTypes = []string{
	"text/html", "application/json", "text/csv", "text/plain",
	"text/css", "text/javascript", "application/javascript", "image/svg+xml",
}

// Compression levels, the fastest of each: on the song list page gzip's
// level 1 costs a fraction of a higher level's CPU for a few per cent more
// bytes (docs/benchmarks.md, "Compression").
const (
	gzipLevel = gzip.BestSpeed
	zstdLevel = zstd.SpeedFastest
)

// compress answers with gzip or zstd (zstd when the client takes both
// alike) what the client accepts, and sets Vary: Accept-Encoding on every
// answer. Bodies under compressMinSize and types outside compressTypes go
// plain. The writer keeps Flush, and Unwrap for http.ResponseController
// (deadlines), so a streaming answer still streams.
func compress() func(http.Handler) http.Handler {
	wrap, err := gzhttp.NewWrapper(
		gzhttp.MinSize(compressMinSize),
		gzhttp.CompressionLevel(gzipLevel),
		gzhttp.ZstdCompressionLevel(int(zstdLevel)),
		gzhttp.ContentTypes(compressTypes),
	)
	if err != nil {
		panic(err) // the options above are constants
	}
	return func(next http.Handler) http.Handler { return wrap(next) }
}
