// The API docs page (/api/docs/): Swagger UI, loaded just before this
// script, mounted into #swagger-ui and reading the OpenAPI document the
// element's data-spec-url names. A file of its own because the
// Content-Security-Policy allows no inline script.
"use strict";
(function () {
  const root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.SwaggerUIBundle({
    url: root.dataset.specUrl,
    dom_id: "#swagger-ui",
    deepLinking: false,
    // The token lives in the page only: a reload forgets it.
    persistAuthorization: false,
    tryItOutEnabled: true,
    supportedSubmitMethods: ["get", "put", "post", "delete", "options", "head", "patch", "trace"],
    // No ?url= or ?configUrl= from the address bar: the page shows our
    // document only.
    queryConfigEnabled: false,
    // No badge fetched from the online validator: the page stays on this
    // site, as the img-src of the CSP requires.
    validatorUrl: null,
  });
})();
