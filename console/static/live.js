// The dashboard's live figure: today's new cases, pushed by the server as server-sent events
// (/console/live). The browser's EventSource reconnects by itself when a stream ends; the
// number on the page stays as it was while it does.
(function () {
  "use strict";
  var el = document.getElementById("today");
  if (!el || !window.EventSource) {
    return;
  }
  var source = new EventSource("/console/live");
  source.addEventListener("today", function (e) {
    if (/^[0-9]+$/.test(e.data)) {
      el.textContent = e.data;
      el.setAttribute("data-live", "on");
    }
  });
  source.addEventListener("error", function () {
    // Closed for good (signed out: the answer was the login page, not a stream).
    if (source.readyState === EventSource.CLOSED) {
      el.setAttribute("data-live", "off");
    }
  });
})();
