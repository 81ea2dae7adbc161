/* The register import's page: follow the job without reloading (the page refreshes itself without JavaScript). */
(function () {
  "use strict";

  var POLL_MS = 2000;

  function start() {
    var section = document.querySelector("[data-progress-url]");
    if (!section || section.getAttribute("data-running") !== "1") {
      return;
    }
    var url = section.getAttribute("data-progress-url");
    var bar = section.querySelector("progress");

    function show(data) {
      section.querySelectorAll("[data-field]").forEach(function (el) {
        var name = el.getAttribute("data-field");
        if (Object.prototype.hasOwnProperty.call(data, name)) {
          el.textContent = String(data[name]);
        }
      });
      if (bar) {
        bar.value = data.percent;
        bar.textContent = data.percent + "%";
      }
    }

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error(response.status);
          }
          return response.json();
        })
        .then(function (data) {
          show(data);
          if (data.running) {
            window.setTimeout(poll, POLL_MS);
          } else {
            window.location.reload(); // the finished page: report, affected applications, no more polling
          }
        })
        .catch(function () {
          window.setTimeout(poll, POLL_MS * 5);
        });
    }

    section.setAttribute("data-polling", "1");
    window.setTimeout(poll, POLL_MS);
  }

  document.addEventListener("DOMContentLoaded", start);
})();
