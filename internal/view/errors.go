package view

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"musicadmin/internal/datamodel"
)

// The texts a user reads on an error page. Each is written here and nowhere
// else: every layer names the error, and Fail picks the text.
const (
	msgNotFound    = "There is no such record."
	msgNoPage      = "There is no page at this address."
	msgUnavailable = "The database is busy, try again in a moment."
	msgForbidden   = "You do not have permission to do this."
	msgCSRF        = "The form has expired or did not come from this site. Reload the page and try again."
	msgTooLarge    = "The request is too large."
	msgBadForm     = "The form could not be read."
	msgNotForm     = "The request is not a form."
	msgInternal    = "Internal error."
)

// retryAfter is the Retry-After of a 503, in seconds: long enough for a
// SQLite writer's lock or a MySQL reconnect, short enough for a person.
const retryAfter = 5

// StatusClientClosedRequest is the status logged for a request whose client
// went away before the answer (nginx's 499): nobody reads it, and it is
// neither a server error nor a success.
const StatusClientClosedRequest = 499

// pageError is an HTTP-level error with its status and the text shown.
type pageError struct {
	status  int
	message string
}

func (e *pageError) Error() string { return strconv.Itoa(e.status) + " " + e.message }

// Errors of the request itself, answered with their status and text by Fail.
var (
	// ErrCSRF: a state-changing form without the session's CSRF token (403).
	ErrCSRF error = &pageError{http.StatusForbidden, msgCSRF}
	// ErrForbidden: a user without the permission of the route (403).
	ErrForbidden error = &pageError{http.StatusForbidden, msgForbidden}
	// ErrTooLarge: a body over the server's cap (413).
	ErrTooLarge error = &pageError{http.StatusRequestEntityTooLarge, msgTooLarge}
	// ErrBadForm: a form body that does not parse (400).
	ErrBadForm error = &pageError{http.StatusBadRequest, msgBadForm}
	// ErrNotForm: a body that is not a form at all (415).
	ErrNotForm error = &pageError{http.StatusUnsupportedMediaType, msgNotForm}
	// ErrNoPage: a path no route serves (404).
	ErrNoPage error = &pageError{http.StatusNotFound, msgNoPage}
)

// StatusError returns the error Fail answers with a plain page of status
// code, such as 404 for an unknown route or 405.
func StatusError(code int) error {
	return &pageError{status: code, message: http.StatusText(code)}
}

// ErrorData is the data of the error page.
type ErrorData struct {
	Status  int
	Message string
}

// Fail answers a request that failed with err: the one mapping from errors
// to error pages for every handler. A missing record is a 404, a busy or
// unreachable database a 503 the client may retry, the request errors above
// their own status, a client that went away nothing but one INFO line, and
// anything else a logged 500 that shows no detail.
func (e *Engine) Fail(w http.ResponseWriter, r *http.Request, err error) {
	e.fail(w, r, err, e.errorPage)
}

// FailJSON is Fail for a route that answers JSON (a lookup, later the
// API): the same statuses, headers and texts, as {"message": ".."}, so a
// script reading it never gets an HTML page.
func (e *Engine) FailJSON(w http.ResponseWriter, r *http.Request, err error) {
	e.fail(w, r, err, func(w http.ResponseWriter, _ *http.Request, status int, message string) {
		WriteJSON(w, status, struct {
			Message string `json:"message"`
		}{message})
	})
}

func (e *Engine) fail(w http.ResponseWriter, r *http.Request, err error,
	answer func(w http.ResponseWriter, r *http.Request, status int, message string)) {
	var pe *pageError
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(r.Context().Err(), context.Canceled):
		// The client hung up; whatever the driver made of the cancelled
		// query, the server did nothing wrong and nobody reads the answer.
		e.log.Info("client went away", "method", r.Method, "path", r.URL.Path, "err", err)
		w.WriteHeader(StatusClientClosedRequest)
	case errors.Is(err, datamodel.ErrNotFound):
		answer(w, r, http.StatusNotFound, msgNotFound)
	case errors.Is(err, datamodel.ErrUnavailable):
		e.log.Warn("database unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
		answer(w, r, http.StatusServiceUnavailable, msgUnavailable)
	case errors.As(err, &pe):
		answer(w, r, pe.status, pe.message)
	default:
		e.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		answer(w, r, http.StatusInternalServerError, msgInternal)
	}
}

// WriteJSON answers with status and v as JSON. v is the handler's own
// value: a failure to encode it is a programming error, answered as a
// plain 500.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		PlainInternalError(w)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// PlainInternalError answers 500 in plain text, for where no page can be
// rendered: a template that failed, a handler that panicked.
func PlainInternalError(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = io.WriteString(w, msgInternal+"\n")
}

func (e *Engine) errorPage(w http.ResponseWriter, r *http.Request, status int, message string) {
	e.Render(w, r, status, "error", http.StatusText(status), ErrorData{Status: status, Message: message})
}

// Redirect answers with a permanent redirect to target, a fixed local path,
// keeping the request's query: the target never comes from the request path.
func Redirect(target string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		to := target
		if r.URL.RawQuery != "" {
			to += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, to, http.StatusMovedPermanently)
	}
}
