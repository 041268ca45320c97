// Package apidocs serves the API docs page: Swagger UI, vendored in
// web/static/swagger-ui (scripts/fetch-swagger-ui.sh), showing the JSON
// API's OpenAPI document inside the admin's layout. The page is an admin
// page like any other, behind the session login; the calls it makes to
// /api/v1/ carry the Bearer token the user types into Swagger UI.
package apidocs

import (
	"net/http"

	"musicadmin/internal/view"
)

// SpecURL is where the JSON API serves its OpenAPI document.
const SpecURL = "/api/v1/_openapi"

// TokensURL is the page where users make their API tokens.
const TokensURL = "/users/tokens"

// pageData is what web/templates/pages/apidocs.html shows.
type pageData struct {
	SpecURL   string
	TokensURL string
}

// Page handles the "GET /api/docs/" route: the page Swagger UI mounts
// into. Its script, web/static/apidocs.js, reads the document's address
// from the page (the Content-Security-Policy allows no inline script).
func Page(ui *view.Engine) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ui.Render(w, r, http.StatusOK, "apidocs", "API Docs", pageData{SpecURL: SpecURL, TokensURL: TokensURL})
	}
}

// PageURL is where the server mounts Page.
const PageURL = "/api/docs/"

// Menu is the API category of the menu: the docs and the tokens page, for
// every logged-in user (the items name no view).
func Menu() view.MenuCategory {
	return view.MenuCategory{Name: "API", Items: []view.MenuItem{
		{Title: "API Docs", URL: PageURL},
		{Title: "API Tokens", URL: TokensURL},
	}}
}
