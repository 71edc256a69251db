// The saga dashboard keeps its figures up to date without reloading the page: every few seconds
// it fetches its cards again (GET <dashboard>?cards=1, staff only like the page) and swaps them in.
// Paused while the tab is hidden; a failed fetch leaves the last figures and says since when.
(function () {
  "use strict";

  function start() {
    var box = document.getElementById("saga-dashboard");
    var stamp = document.getElementById("saga-refreshed");
    if (!box) return;
    var url = box.dataset.refreshUrl;
    var every = parseInt(box.dataset.refreshMs, 10) || 5000;
    var busy = false;

    function asOf() {
      var marker = box.querySelector("[data-as-of]");
      return marker ? marker.dataset.asOf : "";
    }

    function refresh() {
      if (busy || document.visibilityState === "hidden") return;
      busy = true;
      fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" }, cache: "no-store" })
        .then(function (response) {
          // A lapsed session is redirected to the login page: not cards, so keep what is shown.
          if (!response.ok || response.redirected) throw new Error("HTTP " + response.status);
          return response.text();
        })
        .then(function (html) {
          box.innerHTML = html;
          if (stamp) { stamp.textContent = "as of " + asOf() + " UTC"; stamp.classList.remove("stale"); }
        })
        .catch(function () {
          if (stamp) { stamp.textContent = "not updated since " + asOf() + " UTC (retrying)"; stamp.classList.add("stale"); }
        })
        .finally(function () { busy = false; });
    }

    window.setInterval(refresh, every);
    document.addEventListener("visibilitychange", refresh);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
