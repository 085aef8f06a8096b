// The project page (projects/detail.html): small enhancements; the page works without them.
// - the general upload form asks for a 危大工程 category only for the kinds that cover one;
// - an htmx upload from a checklist row that fails at the HTTP level (too large, server error) says so in the row.
(function () {
  "use strict";
  var upload = document.getElementById("upload-form");
  if (upload) {
    var kinds = (upload.getAttribute("data-category-kinds") || "").split(" ");
    var kind = upload.elements.kind, category = upload.querySelector("[data-field=category]");
    var sync = function () {
      var on = kind && kinds.indexOf(kind.value) >= 0;
      if (!category) return;
      category.hidden = !on;
      category.querySelectorAll("select").forEach(function (el) { el.disabled = !on; el.required = on; });
    };
    if (kind) kind.addEventListener("change", sync);
    sync();
  }
  document.body.addEventListener("htmx:responseError", function (event) {
    var form = event.detail.elt;
    if (!form || !form.classList || !form.classList.contains("row-upload")) return;
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    var message = document.createElement("div");
    message.className = "row-message error";
    message.setAttribute("role", "alert");
    message.textContent = status === 413 ? "上传失败：文件过大。" : "上传失败（" + status + "），请稍后重试。";
    form.parentNode.insertBefore(message, form);
  });
})();
