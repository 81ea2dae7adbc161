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

  // The care-mode switch (长辈版) in place: the same form posted in the background, then the page's classes and the
  // button's aria-pressed follow. If the post fails, the form is sent the ordinary way (the page reloads).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-care-switch") || !window.fetch || !window.FormData) {
      return;
    }
    event.preventDefault();
    var button = form.querySelector("button[name=care]");
    var data = new FormData(form);
    data.set("care", button.value);
    fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(response.status);
        }
        return response.json();
      })
      .then(function (answer) {
        var on = !!answer.care_mode;
        document.documentElement.classList.toggle("care-mode", on);
        document.body.classList.toggle("care-mode", on);
        button.setAttribute("aria-pressed", on ? "true" : "false");
        button.value = on ? "off" : "on";
        var state = button.querySelector(".portal-switch-state");
        if (state) {
          state.textContent = on ? " \u2713" : "";
        }
      })
      .catch(function () {
        // form.submit() sends no button: the choice goes in a hidden field.
        var choice = document.createElement("input");
        choice.type = "hidden";
        choice.name = "care";
        choice.value = data.get("care");
        form.appendChild(choice);
        form.submit();
      });
  });
})();
