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
  // Swagger UI's dark theme hangs on html.dark-mode: follow the colour
  // scheme the rest of the app follows (app.css's prefers-color-scheme).
  const dark = window.matchMedia("(prefers-color-scheme: dark)");
  const follow = () => document.documentElement.classList.toggle("dark-mode", dark.matches);
  follow();
  dark.addEventListener("change", follow);
  // Kept on window as Swagger UI's own index page keeps it: the browser
  // tests ask it whether an operation is resolved before they execute it.
  window.ui = window.SwaggerUIBundle({
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
