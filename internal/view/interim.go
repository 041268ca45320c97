package view

// Interim stand-ins for the error mapper and redirect being built on
// another branch; this file goes when that branch is merged.

import (
	"errors"
	"net/http"

	"musicadmin/internal/datamodel"
)

func (e *Engine) Fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, datamodel.ErrNotFound):
		e.Error(w, r, http.StatusNotFound, "There is no such record.")
	case errors.Is(err, datamodel.ErrUnavailable):
		e.Error(w, r, http.StatusServiceUnavailable, "The database is busy, try again in a moment.")
	default:
		e.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e.Error(w, r, http.StatusInternalServerError, "Internal error.")
	}
}

func Redirect(target string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		to := target
		if r.URL.RawQuery != "" {
			to += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, to, http.StatusMovedPermanently)
	}
}
