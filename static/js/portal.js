/* Henan e-Services: small enhancements only; every page works the same without JavaScript. */
(function () {
  "use strict";

  // A form sent back with errors: move the keyboard and the screen reader to the error summary at its top (it has
  // tabindex="-1" for this). Its role="alert" alone is not announced by every screen reader when a page loads.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector(".portal-error-summary");
    if (summary) {
      summary.focus();
    }
  });
})();
