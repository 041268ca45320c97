package server

import (
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"musicadmin/internal/api"
	"musicadmin/internal/metrics"
	"musicadmin/internal/view"
)

// securityHeaders sets the headers every response carries. The policy
// allows no inline script or style: the templates have none.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		next.ServeHTTP(w, r)
	})
}

// noStore keeps pages with user data (and the login form) out of caches.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store, private, max-age=0")
		w.Header().Set("Pragma", "no-cache")
		next.ServeHTTP(w, r)
	})
}

// limitBody caps every request body before anything parses it, so an
// oversized form is a 413, not a 403 from a CSRF check that could not read
// its token.
func limitBody(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > n {
				w.Header().Set("Connection", "close")
				if isAPI(r) {
					view.WriteJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"message": "The body is too large."})
					return
				}
				http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, n)
			next.ServeHTTP(w, r)
		})
	}
}

// limitQuery answers 400 to a query string of more than n parameters.
// net/url stops parsing at 10 000 and r.URL.Query() then silently yields
// nothing, so a flood of parameters would otherwise be served as if the
// query were empty, after the work of splitting it.
func limitQuery(n int) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if q := r.URL.RawQuery; q != "" && strings.Count(q, "&")+1 > n {
				http.Error(w, "too many query parameters", http.StatusBadRequest)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// isAPI reports whether r is for the JSON API, which answers in JSON and
// takes PUT, PATCH and DELETE.
func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, api.Prefix+"/") }

// allowMethods answers 405 to every method but GET, HEAD and POST, and
// PUT, PATCH and DELETE on the JSON API, so TRACE never reaches a handler
// and no method override exists.
func allowMethods(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodPost:
			next.ServeHTTP(w, r)
		case http.MethodPut, http.MethodPatch, http.MethodDelete:
			if isAPI(r) {
				next.ServeHTTP(w, r)
				return
			}
			fallthrough
		default:
			w.Header().Set("Allow", "GET, HEAD, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	})
}

// crossOrigin refuses cross-origin browser requests that change state,
// judged by Sec-Fetch-Site and Origin (net/http's CrossOriginProtection).
// The JSON API is left to its own check: it reads no cookie, so a
// cross-site request carries no credential it would honour, and is
// answered 401 like any request without a token.
func crossOrigin(deny func(w http.ResponseWriter, r *http.Request)) func(http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(deny))
	return func(next http.Handler) http.Handler {
		protected := cop.Handler(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isAPI(r) {
				next.ServeHTTP(w, r)
				return
			}
			protected.ServeHTTP(w, r)
		})
	}
}

// recoverPanics turns a panic into a plain 500 and one log line.
func recoverPanics(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					log.Error("handler crashed", "method", r.Method, "path", r.URL.Path,
						"recovered", v, "stack", string(debug.Stack()))
					view.PlainInternalError(w)
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// statusRecorder notes the status a handler answers, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

// Unwrap lets http.ResponseController reach the writer's deadlines
// through the recorder, and Flush the writers that look for it.
var _ interface {
	http.ResponseWriter
	http.Flusher
	Unwrap() http.ResponseWriter
} = (*statusRecorder)(nil)

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Flush sends what is buffered to the client. The compressing writer
// wrapped around the recorder flushes through it by asserting
// http.Flusher, which Unwrap does not answer.
func (s *statusRecorder) Flush() {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	_ = http.NewResponseController(s.ResponseWriter).Flush()
}

// quietProbe reports whether r is a probe that passed: a load balancer
// asks several times a second, and a line for each would bury the
// requests of people. A failed probe is logged.
func quietProbe(r *http.Request, status int) bool {
	return status == http.StatusOK && (r.URL.Path == "/healthz" || r.URL.Path == "/readyz")
}

// logRequests logs one line per request (but passing probes), and hands it to m when metrics
// are on (m not nil) under its route's pattern, never its raw path. slog
// quotes the values, so a path with a newline or an escape code cannot
// forge a log line.
func logRequests(log *slog.Logger, m *metrics.Metrics) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &statusRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			took := time.Since(start)
			if !quietProbe(r, rec.status) {
				log.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
					"duration", took.Round(time.Microsecond), "remote", r.RemoteAddr)
			}
			if m != nil {
				// The router filled its context in while routing: the
				// pattern of the route that answered, "" for none.
				var route string
				if rctx := chi.RouteContext(r.Context()); rctx != nil {
					route = rctx.RoutePattern()
				}
				m.Observe(route, r.Method, rec.status, took)
			}
		})
	}
}
