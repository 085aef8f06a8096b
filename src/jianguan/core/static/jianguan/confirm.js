// Forms with data-confirm="…" ask before they submit (instead of inline onsubmit handlers, which the
// Content-Security-Policy forbids). A form that also has data-confirmed="name" tells the server the question was
// answered: it gets a hidden name=1 field once the user says yes (without JavaScript the server asks itself).
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (!question) return;
    if (!window.confirm(question)) {
      event.preventDefault();
      return;
    }
    var name = form.getAttribute("data-confirmed");
    if (name && !form.querySelector("input[name='" + name + "']")) {
      var field = document.createElement("input");
      field.type = "hidden";
      field.name = name;
      field.value = "1";
      form.appendChild(field);
    }
  });
})();
