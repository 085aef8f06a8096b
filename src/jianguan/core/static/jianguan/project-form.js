// The filing form (projects/form.html), progressively enhanced; without JavaScript every field shows and the
// server does the same work (dangerous_works validates the parameters, core/geo converts a pasted point).
// - a kind of work marked "不涉及" folds its parameters away (and disables them: they are not sent);
// - a parameter that depends on another (data-requires) shows only once that one is set;
// - the location is picked on a Leaflet map (base tiles when configured, else the districts' boundaries), or
//   pasted from a web map: the server converts it (/api/geo/to-wgs84) and names the conversion.
(function () {
  "use strict";
  var form = document.getElementById("project-form");
  if (!form) return;

  function setEnabled(box, on) {
    box.hidden = !on;
    box.querySelectorAll("input, select, textarea").forEach(function (el) { el.disabled = !on; });
  }

  function isSet(name) {
    var el = form.elements[name];
    if (!el || el.disabled) return false;
    if (el.type === "checkbox") return el.checked;
    var n = parseFloat(el.value);
    return !isNaN(n) && n !== 0;
  }

  function refresh() {
    form.querySelectorAll("fieldset[data-group]").forEach(function (group) {
      var none = group.querySelector(".none-box input[type=checkbox]");
      setEnabled(group.querySelector("[data-group-fields]"), !(none && none.checked));
    });
    // Twice: a dependent of a dependent follows its parent's new state.
    for (var pass = 0; pass < 2; pass++) {
      form.querySelectorAll("[data-requires]").forEach(function (field) {
        var group = field.closest("[data-group-fields]");
        if (group && group.hidden) return;
        setEnabled(field, isSet(field.getAttribute("data-requires")));
      });
    }
  }
  form.addEventListener("change", refresh);
  form.addEventListener("input", function (e) { if (e.target.type === "number") refresh(); });
  refresh();

  // --- location ---------------------------------------------------------------------------------------------
  var dataNode = document.getElementById("map-data");
  var data = dataNode ? JSON.parse(dataNode.textContent) : null;
  var lat = form.elements.lat, lon = form.elements.lon, paste = form.elements.paste;
  var system = form.elements.coord_system;
  var note = document.querySelector("[data-conversion-note]");
  var marker = null, map = null;

  function point() {
    var a = parseFloat(lat.value), b = parseFloat(lon.value);
    return isNaN(a) || isNaN(b) ? null : [a, b];
  }
  function place(at, pan) {
    if (!map || !at) return;
    if (!marker) {
      marker = window.L.circleMarker(at, { radius: 8, color: "#c0392b", weight: 3, fillOpacity: 0.6 }).addTo(map);
    } else {
      marker.setLatLng(at);
    }
    if (pan) map.panTo(at);
  }
  function setPoint(a, b, text) {
    lat.value = a.toFixed(6);
    lon.value = b.toFixed(6);
    if (note) note.textContent = text;
    place([a, b], true);
  }

  var box = document.querySelector("[data-map]");
  if (box && data && window.L) {
    box.hidden = false;
    var mapNote = document.querySelector("[data-map-note]");
    if (mapNote) mapNote.hidden = false;
    var start = point();
    map = window.L.map(box, { attributionControl: true }).setView(start || data.center, start ? 14 : 9);
    map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    if (data.tiles) {
      window.L.tileLayer(data.tiles, { attribution: data.attribution || "", maxZoom: 18 }).addTo(map);
    }
    var bounds = [];
    data.districts.forEach(function (d) {
      if (!d.boundary) return;
      var layer = window.L.geoJSON(d.boundary, {
        style: function () { return { color: "#1f5fbf", weight: 1, fillOpacity: 0.05 }; },
        interactive: false,
      }).addTo(map);
      bounds.push(layer.getBounds());
      window.L.tooltip({ permanent: true, direction: "center", className: "district-label" })
        .setLatLng(layer.getBounds().getCenter()).setContent(d.name).addTo(map);
    });
    if (!start && bounds.length) {
      var all = bounds[0];
      bounds.forEach(function (b) { all = all.extend(b); });
      map.fitBounds(all);
    }
    place(start, false);
    map.on("click", function (e) {
      if (paste) paste.value = "";
      if (system) system.value = "wgs84";
      setPoint(e.latlng.lat, e.latlng.lng, "已在地图上选定（WGS-84）。");
    });
  }
  [lat, lon].forEach(function (el) {
    el.addEventListener("input", function () {
      if (paste) paste.value = "";
      place(point(), true);
    });
  });

  function convert() {
    if (!paste || !paste.value.trim() || !data) return;
    var csrf = form.querySelector("input[name=csrfmiddlewaretoken]");
    fetch(data.convert_url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf ? csrf.value : "" },
      body: JSON.stringify({ text: paste.value, system: system ? system.value : "wgs84" }),
      credentials: "same-origin",
    }).then(function (r) { return r.json().then(function (body) { return [r.ok, body]; }); })
      .then(function (answer) {
        if (answer[0]) setPoint(answer[1].lat, answer[1].lon, answer[1].note + "。");
        else if (note) note.textContent = answer[1].detail || "无法识别粘贴的坐标";
      })
      .catch(function () { if (note) note.textContent = "换算暂不可用：保存时将由服务器换算。"; });
  }
  if (paste) paste.addEventListener("change", convert);
  if (system) system.addEventListener("change", convert);
})();
