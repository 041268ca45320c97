//go:build clientruntime

package api_test

// The runtime of the client TestGeneratedClient generates (ogen's client
// without OpenTelemetry): named here, under a build tag no build sets, so
// that go mod tidy keeps it in go.mod and go.sum, and the generated code
// builds wherever the module does, from the module proxy or the cache.
import (
	_ "github.com/go-faster/errors"
	_ "github.com/go-faster/jx"
	_ "github.com/ogen-go/ogen/conv"
	_ "github.com/ogen-go/ogen/http"
	_ "github.com/ogen-go/ogen/ogenerrors"
	_ "github.com/ogen-go/ogen/uri"
	_ "github.com/ogen-go/ogen/validate"
)
