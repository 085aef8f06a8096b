/* Live alarms (no framework): every element with data-alarm-live="<stream url>" listens to the server-sent
 * events of /sites/alarms/stream/ and replaces or prepends the rendered alarm rows it receives.
 *
 *   data-since     the page's cursor (the stream sends what changed after it)
 *   data-max-id    the highest alarm id when the page was rendered: only newer alarms are prepended
 *   [data-alarm-rows]  containers; data-states = the states they list ("" = any), data-prepend="1" = new
 *                  alarms go on top of this one
 *   [data-live-indicator]  shows "实时" while connected
 * A row the user is working on (typing a comment, an open <details>) is updated once they leave it.
 */
(function () {
  "use strict";
  if (!window.EventSource) return;

  function fragment(html) {
    var t = document.createElement("template");
    t.innerHTML = html.trim();
    return t.content.firstElementChild;
  }

  function busy(el) {
    if (el.contains(document.activeElement)) return true;
    if (el.querySelector("details[open]")) return true;
    return Array.prototype.some.call(el.querySelectorAll("input[name=comment]"), function (i) {
      return i.value.trim() !== "";
    });
  }

  function flash(el) {
    el.style.transition = "background-color 2s";
    el.style.backgroundColor = "#fff6d6";
    setTimeout(function () { el.style.backgroundColor = ""; }, 1500);
  }

  function accepts(container, state) {
    var states = (container.dataset.states || "").split(",").filter(Boolean);
    return states.length === 0 || states.indexOf(state) >= 0;
  }

  function connect(box) {
    var containers = Array.prototype.slice.call(box.querySelectorAll("[data-alarm-rows]"));
    var indicator = box.querySelector("[data-live-indicator]");
    var maxId = parseInt(box.dataset.maxId || "0", 10);
    var pending = {};
    var url = box.dataset.alarmLive;
    url += (url.indexOf("?") < 0 ? "?" : "&") + "since=" + encodeURIComponent(box.dataset.since || "");

    function show(on) {
      if (!indicator) return;
      indicator.hidden = false;
      indicator.className = on ? "badge ok" : "badge";
      indicator.textContent = on ? "● 实时" : "实时连接中断，重连中…";
    }

    function place(alarm) {
      var el = fragment(alarm.html);
      if (!el) return;
      var old = document.getElementById("alarm-" + alarm.id);
      var home = containers.filter(function (c) { return accepts(c, alarm.state); })[0];
      if (old && box.contains(old)) {
        if (old.textContent === el.textContent) { delete pending[alarm.id]; return; } // a replay: nothing new
        if (busy(old)) { pending[alarm.id] = alarm; return; }
        delete pending[alarm.id];
        if (home && old.parentNode !== home) { old.remove(); home.prepend(el); } else { old.replaceWith(el); }
      } else if (alarm.id > maxId) {
        home = containers.filter(function (c) { return c.dataset.prepend === "1" && accepts(c, alarm.state); })[0];
        if (!home) return;
        home.prepend(el);
        var table = home.closest("table");
        if (table) table.hidden = false;
        Array.prototype.forEach.call(box.querySelectorAll("[data-alarm-empty]"), function (e) { e.remove(); });
      } else {
        return;
      }
      maxId = Math.max(maxId, alarm.id);
      flash(el);
    }

    function flush() {
      setTimeout(function () {
        Object.keys(pending).forEach(function (id) {
          var old = document.getElementById("alarm-" + id);
          if (!old || !busy(old)) place(pending[id]);
        });
      }, 0);
    }
    box.addEventListener("focusout", flush);
    box.addEventListener("toggle", flush, true); // <details> closed (toggle does not bubble: capture)

    var source = new EventSource(url);
    source.addEventListener("open", function () { show(true); });
    source.addEventListener("error", function () { show(false); });
    source.addEventListener("alarm", function (e) { place(JSON.parse(e.data)); });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-alarm-live]"), connect);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
