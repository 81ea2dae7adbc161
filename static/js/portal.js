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
    revealOnChange();
  });

  // Conditional questions (data-reveal-when="<field name>" data-reveal-values="a b"): the server shows those that
  // apply to the answers as they stand; here they are revealed or hidden as soon as the answer changes.
  function revealOnChange() {
    var blocks = document.querySelectorAll("[data-reveal-when]");
    Array.prototype.forEach.call(blocks, function (block) {
      var form = block.closest("form");
      var name = block.getAttribute("data-reveal-when");
      var values = block.getAttribute("data-reveal-values").split(" ");
      if (!form) {
        return;
      }
      var update = function () {
        var chosen = form.querySelector('[name="' + name + '"]:checked') || form.querySelector('select[name="' + name + '"]');
        block.hidden = !(chosen && values.indexOf(chosen.value) !== -1);
      };
      Array.prototype.forEach.call(form.querySelectorAll('[name="' + name + '"]'), function (input) {
        input.addEventListener("change", update);
      });
      update();
    });
  }
})();
