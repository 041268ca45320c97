package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"

	"musicadmin/internal/apptest"
)

// fetchOpenAPI returns the document the app serves, checked to be JSON.
func fetchOpenAPI(t *testing.T, app *apptest.App) []byte {
	t.Helper()
	res := app.API("").Do(t, http.MethodGet, "/api/v1/_openapi", nil).Expect(t, "GET /api/v1/_openapi", http.StatusOK)
	if res.JSON == nil {
		t.Fatalf("the document is not a JSON object: %.200s", res.Body)
	}
	return []byte(res.Body)
}

// newValidator builds the document with libopenapi (failing on any error
// of the model) and a libopenapi-validator over it that asserts formats.
func newValidator(t *testing.T, spec []byte) validator.Validator {
	t.Helper()
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		t.Fatalf("libopenapi: %v", err)
	}
	if _, err := doc.BuildV3Model(); err != nil {
		t.Fatalf("libopenapi: build the v3 model: %v", err)
	}
	v, errs := validator.NewValidator(doc, config.WithFormatAssertions())
	if len(errs) > 0 {
		t.Fatalf("libopenapi-validator: %v", errs)
	}
	return v
}

// validationReport is the validator's errors, one a line, with each
// schema failure's location.
func validationReport(errs []*verrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n- %s: %s", e.Message, e.Reason)
		for _, f := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n    at %s (%s): %s", f.FieldPath, f.KeywordLocation, f.Reason)
		}
	}
	return b.String()
}

// TestOpenAPIDocumentValid checks the served document with libopenapi's
// model builder and against the OpenAPI 3.1 meta-schema.
func TestOpenAPIDocumentValid(t *testing.T) {
	t.Parallel()
	app := apptest.NewApp(t, apptest.SQLite)
	spec := fetchOpenAPI(t, app)
	v := newValidator(t, spec)
	if ok, errs := v.ValidateDocument(); !ok {
		t.Fatalf("the document does not validate against the OpenAPI 3.1 schema:%s", validationReport(errs))
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
	}
	if err := json.Unmarshal(spec, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Fatalf("openapi: %q, want 3.1.x (%v)", doc.OpenAPI, err)
	}
}

// exchange sends one request to the app and returns it with its answer,
// whose body stays readable.
type exchange struct {
	req  *http.Request
	res  *http.Response
	body []byte
}

func send(t *testing.T, app *apptest.App, token, method, path, contentType string, body any) exchange {
	t.Helper()
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	newReq := func() *http.Request {
		req, err := http.NewRequest(method, app.URL+path, bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if body != nil {
			req.Header.Set("Content-Type", contentType)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return req
	}
	res, err := app.Server.Client().Do(newReq())
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read: %v", method, path, err)
	}
	res.Body = io.NopCloser(bytes.NewReader(got))
	// The validator reads the request's body too: give it a fresh one.
	return exchange{req: newReq(), res: res, body: got}
}

// TestOpenAPIResponsesValid validates real answers of the app against the
// document it serves: a list, a get, a create (201), a refused create
// (422), a missing record (404), no token (401), and the writes.
func TestOpenAPIResponsesValid(t *testing.T) {
	t.Parallel()
	app := apptest.NewApp(t, apptest.SQLite)
	v := newValidator(t, fetchOpenAPI(t, app))
	token := app.APIToken(t, apptest.AdminUser)

	check := func(what string, want int, x exchange, withRequest bool) exchange {
		t.Helper()
		if x.res.StatusCode != want {
			t.Fatalf("%s: status %d, want %d; body %s", what, x.res.StatusCode, want, x.body)
		}
		var ok bool
		var errs []*verrors.ValidationError
		if withRequest {
			ok, errs = v.ValidateHttpRequestResponse(x.req, x.res)
		} else {
			ok, errs = v.ValidateHttpResponse(x.req, x.res)
		}
		if !ok {
			t.Errorf("%s: the exchange does not match the document:%s\nbody: %s", what, validationReport(errs), x.body)
		}
		return x
	}
	id := func(x exchange) string {
		var one struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(x.body, &one); err != nil || one.ID == "" {
			t.Fatalf("no id in %s (%v)", x.body, err)
		}
		return one.ID
	}

	album := id(check("create album", http.StatusCreated,
		send(t, app, token, http.MethodPost, "/api/v1/albumview/", "application/json", map[string]any{"name": "Album1"}), true))
	song := id(check("create song", http.StatusCreated,
		send(t, app, token, http.MethodPost, "/api/v1/songsview/", "application/json",
			map[string]any{"title": "Song1", "rating": 9, "album": album}), true))
	check("create song without an album", http.StatusCreated,
		send(t, app, token, http.MethodPost, "/api/v1/songsview/", "application/json",
			map[string]any{"title": "Song2", "album": nil}), true)

	// An address the store takes though format email (RFC 5321) would not.
	check("create user", http.StatusCreated,
		send(t, app, token, http.MethodPost, "/api/v1/users/", "application/json", map[string]any{"username": "jose",
			"first_name": "José", "last_name": "Núñez", "email": "josé@exämple.com", "password": "a-long-password-123"}), true)
	check("list users", http.StatusOK, send(t, app, token, http.MethodGet, "/api/v1/users/?include=roles", "", nil), true)
	check("list roles", http.StatusOK, send(t, app, token, http.MethodGet, "/api/v1/roles/?include=permissions", "", nil), true)

	check("list", http.StatusOK, send(t, app, token, http.MethodGet, "/api/v1/songsview/?include=album&sort=-rating", "", nil), true)
	check("list filtered", http.StatusOK, send(t, app, token, http.MethodGet, "/api/v1/songsview/?title=Song1&rating__gt=1", "", nil), true)
	check("list of albums", http.StatusOK, send(t, app, token, http.MethodGet, "/api/v1/albumview/", "", nil), true)
	check("get", http.StatusOK, send(t, app, token, http.MethodGet, "/api/v1/songsview/"+song+"?include=album", "", nil), true)
	check("info", http.StatusOK, send(t, app, token, http.MethodGet, "/api/v1/songsview/_info", "", nil), true)
	check("patch", http.StatusOK, send(t, app, token, http.MethodPatch, "/api/v1/songsview/"+song,
		"application/merge-patch+json", map[string]any{"rating": 8}), true)
	check("replace", http.StatusOK, send(t, app, token, http.MethodPut, "/api/v1/songsview/"+song,
		"application/json", map[string]any{"title": "Song1", "rating": 7, "album": nil}), true)
	check("stale patch", http.StatusConflict, send(t, app, token, http.MethodPatch, "/api/v1/songsview/"+song,
		"application/merge-patch+json", map[string]any{"rating": 6, "version": "not-the-version"}), true)

	// Refused input: the request breaks the document's schema on purpose
	// (a rating over the maximum), so only the answer is checked.
	check("create refused", http.StatusUnprocessableEntity,
		send(t, app, token, http.MethodPost, "/api/v1/songsview/", "application/json",
			map[string]any{"title": "Song3", "rating": 10}), false)
	check("create duplicate", http.StatusUnprocessableEntity,
		send(t, app, token, http.MethodPost, "/api/v1/songsview/", "application/json",
			map[string]any{"title": "Song1"}), true)
	check("unknown list parameter", http.StatusBadRequest,
		send(t, app, token, http.MethodGet, "/api/v1/songsview/?colour=red", "", nil), false)

	check("delete", http.StatusOK, send(t, app, token, http.MethodDelete, "/api/v1/songsview/"+song, "", nil), true)
	check("get deleted", http.StatusNotFound, send(t, app, token, http.MethodGet, "/api/v1/songsview/"+song, "", nil), true)
	check("no token", http.StatusUnauthorized, send(t, app, "", http.MethodGet, "/api/v1/songsview/", "", nil), false)
	check("audit log", http.StatusOK, send(t, app, token, http.MethodGet, "/api/v1/auditlog/", "", nil), true)
}

// TestOpenAPIDefaults checks the document's defaults against the app: a
// create that leaves a field out stores its default, and a proxy that
// fills defaults in (libopenapi-validator's WithRequestDefaults) changes
// no PUT or PATCH, whose schemas have none: a patch of a deactivated
// user's name leaves them inactive.
func TestOpenAPIDefaults(t *testing.T) {
	t.Parallel()
	app := apptest.NewApp(t, apptest.SQLite)
	spec := fetchOpenAPI(t, app)
	token := app.APIToken(t, apptest.AdminUser)
	api := app.API(token)

	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(spec, &doc); err != nil {
		t.Fatal(err)
	}
	for schema, props := range doc.Components.Schemas {
		for name, p := range props.Properties {
			if _, ok := p["default"]; ok && !strings.HasSuffix(schema, "Create") {
				t.Errorf("%s.%s has a default: only a create's fields may", schema, name)
			}
		}
	}
	if got := doc.Components.Schemas["UserCreate"].Properties["active"]["default"]; got != true {
		t.Fatalf("UserCreate.active: default %v, want true", got)
	}
	user := api.Do(t, http.MethodPost, "/api/v1/users/", map[string]any{"username": "bo", "first_name": "Bo",
		"last_name": "Brown", "email": "bo@example.com", "password": "a-long-password-123"}).Expect(t, "create user", http.StatusCreated)
	if user.Result()["active"] != true {
		t.Fatalf("a user created without active: %s, want active (the default)", user.Body)
	}
	if got := doc.Components.Schemas["SongCreate"].Properties["rating"]["default"]; got != 0.0 {
		t.Fatalf("SongCreate.rating: default %v, want 0", got)
	}
	song := api.Do(t, http.MethodPost, "/api/v1/songsview/", map[string]any{"title": "Song1"}).Expect(t, "create song", http.StatusCreated)
	if song.Result()["rating"] != 0.0 {
		t.Fatalf("a song created without rating: %s, want rating 0 (the default)", song.Body)
	}

	api.Do(t, http.MethodPatch, "/api/v1/users/"+user.Str("id"), map[string]any{"active": false}).Expect(t, "deactivate", http.StatusOK)
	doc2, err := libopenapi.NewDocument(spec)
	if err != nil {
		t.Fatal(err)
	}
	proxy, errs := validator.NewValidator(doc2, config.WithRequestDefaults())
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	x := send(t, app, token, http.MethodGet, "/api/v1/users/", "", nil) // a request to build on
	req, err := http.NewRequest(http.MethodPatch, app.URL+"/api/v1/users/"+user.Str("id"),
		strings.NewReader(`{"first_name":"Bob"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = x.req.Header.Clone()
	req.Header.Set("Content-Type", "application/merge-patch+json")
	if ok, errs := proxy.ValidateHttpRequest(req); !ok {
		t.Fatalf("the patch does not match the document:%s", validationReport(errs))
	}
	res, err := app.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var one struct {
		Result map[string]any `json:"result"`
	}
	if err := json.NewDecoder(res.Body).Decode(&one); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("patch through the proxy: %d %v", res.StatusCode, err)
	}
	if one.Result["first_name"] != "Bob" || one.Result["active"] != false {
		t.Fatalf("after a patch of the name through a proxy that fills defaults in: %v, want Bob, still inactive", one.Result)
	}
}
