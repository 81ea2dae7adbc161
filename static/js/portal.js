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

  // The office picker (accounts/officepicker.py): without JavaScript its "Find" button sends the form and the page
  // comes back with the list narrowed; here the city, district and name narrow the list as the citizen chooses and
  // types, and the button is removed.
  function officePicker(root) {
    var city = root.querySelector("[data-picker-city]");
    var district = root.querySelector("[data-picker-district]");
    var query = root.querySelector("[data-picker-query]");
    var office = root.querySelector("[data-picker-office]");
    var count = root.querySelector("[data-picker-count]");
    var find = root.querySelector("[data-picker-find]");
    if (!city || !district || !query || !office) {
      return;
    }
    // Every option as rendered, with its group: the list is rebuilt from these (hidden <option>s are not hidden on
    // every phone).
    var placeholder = office.querySelector("option[value='']");
    var groups = Array.prototype.map.call(office.querySelectorAll("optgroup"), function (group) {
      return { label: group.label, options: Array.prototype.slice.call(group.querySelectorAll("option")) };
    });
    var districtGroups = Array.prototype.map.call(district.querySelectorAll("optgroup"), function (group) {
      return group;
    });

    function narrowDistricts() {
      districtGroups.forEach(function (group) {
        var show = !city.value || group.getAttribute("data-city") === city.value;
        if (show && !group.parentNode) {
          district.appendChild(group);
        } else if (!show && group.parentNode) {
          group.parentNode.removeChild(group);
        }
      });
      var chosen = district.selectedOptions[0];
      if (district.value && chosen && city.value && chosen.getAttribute("data-city") !== city.value) {
        district.value = "";
      }
    }

    function narrowOffices() {
      var text = query.value.trim().toLowerCase();
      var selected = office.value;
      var shown = 0;
      office.textContent = "";
      if (placeholder) {
        office.appendChild(placeholder);
      }
      groups.forEach(function (group) {
        var kept = group.options.filter(function (option) {
          if (city.value && option.getAttribute("data-city") !== city.value) {
            return false;
          }
          if (district.value && option.getAttribute("data-district") !== district.value) {
            return false;
          }
          return !text || (option.getAttribute("data-search") || option.textContent).toLowerCase().indexOf(text) !== -1;
        });
        if (kept.length) {
          var optgroup = document.createElement("optgroup");
          optgroup.label = group.label;
          kept.forEach(function (option) {
            optgroup.appendChild(option);
          });
          office.appendChild(optgroup);
          shown += kept.length;
        }
      });
      office.value = selected;
      if (office.value !== selected) {
        office.value = "";
      }
      var narrowed = city.value || district.value || text;
      if (count) {
        count.textContent = narrowed ? root.getAttribute("data-found").replace("{count}", String(shown)) : "";
      }
    }

    // Removed, not hidden: Enter in another field would otherwise "click" it, the form's first submit button.
    if (find) {
      find.parentNode.removeChild(find);
    }
    city.addEventListener("change", function () {
      narrowDistricts();
      narrowOffices();
    });
    district.addEventListener("change", narrowOffices);
    query.addEventListener("input", narrowOffices);
    // Enter in the name box narrows; it must not send the whole form.
    query.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
      }
    });
    narrowDistricts();
    narrowOffices();
  }

  // The address in parts (accounts/address.py): without JavaScript "Update the lists" sends the form and the city and
  // district lists come back for the province and city chosen. Here the lists follow the choices at once (the
  // divisions below a code come from /accounts/divisions/<code>/) and the button is removed.
  function addressPicker(root) {
    var province = root.querySelector("[data-address-province]");
    var city = root.querySelector("[data-address-city]");
    var district = root.querySelector("[data-address-district]");
    var update = root.querySelector("[data-address-update-row]");
    var url = root.getAttribute("data-children-url");
    if (!province || !city || !district || !url || !window.fetch) {
      return;
    }
    // Removed, not hidden: Enter in a text box would otherwise "click" it. Put back if the lists cannot be fetched.
    var updateParent = update && update.parentNode;
    var updateNext = update && update.nextSibling;
    if (update) {
      updateParent.removeChild(update);
    }
    function restore() {
      if (update && !update.parentNode) {
        updateParent.insertBefore(update, updateNext);
      }
    }
    function fill(select, code) {
      var placeholder = select.options[0];
      select.textContent = "";
      select.appendChild(placeholder);
      select.value = "";
      if (!code) {
        return Promise.resolve();
      }
      return fetch(url.replace("000000", code), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error(response.status);
          }
          return response.json();
        })
        .then(function (answer) {
          answer.children.forEach(function (child) {
            var option = document.createElement("option");
            option.value = child.code;
            option.textContent = child.name;
            select.appendChild(option);
          });
        });
    }
    // A city without districts or counties (a municipality's district, 济源市): no district list to choose from.
    var districtRow = root.querySelector("[data-address-district-row]");
    function showDistricts() {
      if (districtRow) {
        districtRow.hidden = !!city.value && district.options.length <= 1;
      }
    }
    province.addEventListener("change", function () {
      fill(district, "").then(showDistricts);
      fill(city, province.value).catch(restore);
    });
    city.addEventListener("change", function () {
      fill(district, city.value).then(showDistricts, restore);
    });
  }

  // Rows of people (templates/hukou/_person_rows.html): without JavaScript "Save and add more people" comes back
  // with up to five empty rows. Here "Add another person" adds one in place, as often as wanted up to the formset's
  // maximum, from the empty row's <template> ("__prefix__" becomes the row's number); the formset's TOTAL_FORMS
  // follows, and blank rows are left out when the page is saved, as without JavaScript.
  function addRows(root) {
    var template = root.querySelector("template[data-row-template]");
    var list = root.querySelector("[data-row-list]");
    var total = document.getElementById(root.getAttribute("data-total-id"));
    var max = parseInt(root.getAttribute("data-max"), 10) || 0;
    if (!template || !list || !total) {
      return;
    }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-outline-primary mb-3";
    button.textContent = root.getAttribute("data-add-label");
    button.setAttribute("data-testid", "add-row");
    function update() {
      button.hidden = max > 0 && parseInt(total.value, 10) >= max;
    }
    button.addEventListener("click", function () {
      var index = parseInt(total.value, 10);
      if (max > 0 && index >= max) {
        return;
      }
      var holder = document.createElement("div");
      holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
      var row = holder.querySelector("fieldset");
      list.appendChild(row);
      total.value = String(index + 1);
      var first = row.querySelector("input:not([type=hidden]), select, textarea");
      if (first) {
        first.focus();
      }
      update();
    });
    list.parentNode.insertBefore(button, list.nextSibling);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-office-picker]"), officePicker);
    Array.prototype.forEach.call(document.querySelectorAll("[data-address]"), addressPicker);
    Array.prototype.forEach.call(document.querySelectorAll("[data-add-rows]"), addRows);
  });
})();
