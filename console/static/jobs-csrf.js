// River's job UI under /console/jobs: adds the console session's CSRF token (from the page's
// meta element, put there by the console) to the app's requests that change something, which
// the console refuses without it.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="console-csrf"]');
  if (!meta || !window.fetch) {
    return;
  }
  var token = meta.getAttribute("content");
  var fetch = window.fetch;
  window.fetch = function (input, init) {
    var method = ((init && init.method) || (input instanceof Request ? input.method : "GET")).toUpperCase();
    if (method !== "GET" && method !== "HEAD") {
      var headers = new Headers((init && init.headers) || (input instanceof Request ? input.headers : undefined));
      headers.set("X-CSRF-Token", token);
      init = Object.assign({}, init, { headers: headers });
    }
    return fetch.call(this, input, init);
  };
})();
