/* Vigil pages: relative times, live updates over server-sent events, sparklines.
   Plain browser JavaScript, no dependencies. */
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var SPARK_POINTS = 240;

  function now() { return Date.now() / 1000; }

  function ago(t) {
    var s = now() - t, future = s < 0, text;
    s = Math.abs(s);
    if (s < 60) return "just now";
    if (s < 3600) text = Math.floor(s / 60) + " min";
    else if (s < 86400) text = Math.floor(s / 3600) + " h";
    else text = Math.floor(s / 86400) + " d";
    return future ? "in " + text : text + " ago";
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function utc(t, seconds) {
    var d = new Date(t * 1000);
    var text = d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) +
      " " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
    if (seconds) text += ":" + pad(d.getUTCSeconds());
    return text + " UTC";
  }

  function clock(t) {
    var d = new Date(t * 1000);
    return pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds());
  }

  function formatValue(v) {
    if (v === null || v === undefined) return "—";
    if (typeof v === "boolean") return v ? "1" : "0";
    if (typeof v === "number") return isFinite(v) ? String(Number(v.toFixed(2))) : String(v);
    return String(v);
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* A <time> with UTC text and a relative part that refreshTimes() keeps current. */
  function when(t) {
    var frag = document.createDocumentFragment();
    frag.appendChild(el("time", { datetime: new Date(t * 1000).toISOString(), title: utc(t, true) }, utc(t)));
    frag.appendChild(document.createTextNode(" ("));
    frag.appendChild(el("span", { "class": "ago", "data-ago": String(t) }, ago(t)));
    frag.appendChild(document.createTextNode(")"));
    return frag;
  }

  function refreshTimes() {
    document.querySelectorAll("[data-ago]").forEach(function (node) {
      node.textContent = ago(parseFloat(node.getAttribute("data-ago")));
    });
  }

  function entityHref(id) { return "/entities/" + encodeURIComponent(id); }

  /* Server-sent events with a visible connection state; EventSource reconnects itself. */
  function connect(url, handlers) {
    var status = document.querySelector("[data-live-status]");
    var source = new EventSource(url, { withCredentials: true });
    function show(text, on) {
      if (!status) return;
      status.textContent = text;
      status.classList.toggle("on", on);
    }
    source.onopen = function () { show("live", true); };
    source.onerror = function () {
      show(source.readyState === EventSource.CLOSED ? "disconnected (reload the page)" : "reconnecting…", false);
    };
    Object.keys(handlers).forEach(function (name) {
      source.addEventListener(name, function (event) {
        var data;
        try { data = JSON.parse(event.data); } catch (err) { return; }
        handlers[name](data);
      });
    });
    window.addEventListener("pagehide", function () { source.close(); });
    return source;
  }

  /* ---- sparklines ---------------------------------------------------------------- */

  var series = {};

  function key(device, metric) { return device + "\u0000" + metric; }

  function drawSpark(svg) {
    var points = series[key(svg.getAttribute("data-spark-device"), svg.getAttribute("data-spark-metric"))];
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    if (!points || points.length === 0) return;
    var t0 = points[0][0], t1 = points[points.length - 1][0];
    var lo = Infinity, hi = -Infinity;
    points.forEach(function (p) { lo = Math.min(lo, p[1]); hi = Math.max(hi, p[1]); });
    var spanT = t1 - t0 || 1, spanV = hi - lo || 1;
    function x(t) { return points.length === 1 ? 100 : ((t - t0) / spanT) * 100; }
    function y(v) { return hi === lo ? 12 : 22 - ((v - lo) / spanV) * 20; }
    // A 0/1 sensor (a door, a motion detector) holds its value until the next reading:
    // drawn as steps, not as a slope between two states it never passed through.
    var binary = points.every(function (p) { return p[1] === 0 || p[1] === 1; });
    svg.setAttribute("data-spark-shape", binary ? "steps" : "line");
    var coords = [];
    points.forEach(function (p, i) {
      if (binary && i > 0) coords.push(x(p[0]).toFixed(2) + "," + y(points[i - 1][1]).toFixed(2));
      coords.push(x(p[0]).toFixed(2) + "," + y(p[1]).toFixed(2));
    });
    // One reading is no trend: the title still says what there is.
    var title = document.createElementNS(SVG, "title");
    title.textContent = points.length + " readings, from " + formatValue(lo) + " to " + formatValue(hi);
    svg.appendChild(title);
    svg.setAttribute("aria-label", title.textContent);
    if (points.length > 1) {
      var line = document.createElementNS(SVG, "polyline");
      line.setAttribute("points", coords.join(" "));
      svg.appendChild(line);
    }
  }

  function addPoint(device, metric, t, value) {
    if (typeof value !== "number" || !isFinite(value)) return;
    var k = key(device, metric);
    var points = series[k] || (series[k] = []);
    points.push([t, value]);
    points.sort(function (a, b) { return a[0] - b[0]; });
    var horizon = points[points.length - 1][0] - 6 * 3600;
    while (points.length > SPARK_POINTS || (points.length && points[0][0] < horizon)) points.shift();
  }

  function loadSparks(entity) {
    var svgs = document.querySelectorAll("svg[data-spark-device]");
    if (!svgs.length || !window.fetch) return;
    fetch("/api/v1/entities/" + encodeURIComponent(entity) + "/history?hours=6", {
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    }).then(function (response) {
      return response.ok ? response.json() : [];
    }).then(function (points) {
      points.forEach(function (p) { addPoint(p.device, p.metric, p.time, p.value); });
      svgs.forEach(drawSpark);
    }).catch(function () { /* the table still works without trends */ });
  }

  /* ---- entity page --------------------------------------------------------------- */

  function findCell(device, metric) {
    var cells = document.querySelectorAll("td.value[data-device]");
    for (var i = 0; i < cells.length; i++) {
      if (cells[i].getAttribute("data-device") === device && cells[i].getAttribute("data-metric") === metric) {
        return cells[i];
      }
    }
    return null;
  }

  function addRow(device, metric) {
    var tbody = document.querySelector("table[data-readings] tbody");
    if (!tbody) return null;
    var empty = tbody.querySelector("[data-readings-empty]");
    if (empty) empty.remove();
    var row = el("tr", { "data-row-device": device, "data-row-metric": metric });
    var name = el("th", { scope: "row" }, metric);
    name.appendChild(el("br"));
    name.appendChild(el("code", { "class": "muted" }, device));
    row.appendChild(name);
    var cell = el("td", { "class": "value num", "data-device": device, "data-metric": metric });
    row.appendChild(cell);
    var sparkCell = el("td", { "class": "spark-cell" });
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "spark");
    svg.setAttribute("viewBox", "0 0 100 24");
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("role", "img");
    svg.setAttribute("data-spark-device", device);
    svg.setAttribute("data-spark-metric", metric);
    sparkCell.appendChild(svg);
    row.appendChild(sparkCell);
    row.appendChild(el("td", { "class": "when", "data-when": "" }));
    tbody.appendChild(row);
    return cell;
  }

  function flash(node) {
    node.classList.remove("flash");
    void node.offsetWidth; // restart the transition
    node.classList.add("flash");
    window.setTimeout(function () { node.classList.remove("flash"); }, 60);
  }

  function onReading(message) {
    var d = message.data || {};
    var cell = findCell(d.device, d.metric) || addRow(d.device, d.metric);
    if (!cell) return;
    cell.textContent = formatValue(d.value);
    if (d.unit) cell.appendChild(el("span", { "class": "unit" }, d.unit));
    cell.setAttribute("data-time", String(message.time));
    flash(cell);
    var row = cell.parentNode;
    var whenCell = row.querySelector("[data-when]");
    if (whenCell) {
      whenCell.textContent = "";
      whenCell.appendChild(el("time", { "class": "ago", "data-ago": String(message.time), title: utc(message.time, true) }, ago(message.time)));
    }
    var updated = document.querySelector("[data-last-updated]");
    if (updated) {
      updated.textContent = "";
      updated.appendChild(when(message.time));
    }
    addPoint(d.device, d.metric, message.time, d.value);
    var svg = row.querySelector("svg[data-spark-device]");
    if (svg) drawSpark(svg);
  }

  function onFinding(message) {
    var list = document.querySelector("[data-findings]");
    if (!list) return;
    var empty = list.querySelector("[data-findings-empty]");
    if (empty) empty.remove();
    var item = el("li", { "class": "open new" });
    item.appendChild(el("p", {}, message.message || message.kind));
    var meta = el("p", { "class": "muted" });
    meta.appendChild(el("code", {}, message.kind));
    meta.appendChild(document.createTextNode(" · "));
    meta.appendChild(when(message.time));
    item.appendChild(meta);
    list.insertBefore(item, list.firstChild);
  }

  function onCondition(message) {
    // An alert raised, updated or closed: shown like a finding, with what happened to it.
    var d = message.data || {};
    onFinding({ kind: d.kind + " · " + d.what, message: message.message, time: message.time });
  }

  /* ---- overview ticker ----------------------------------------------------------- */

  function ticker(list) {
    var max = 50, names = {};
    try { names = JSON.parse(list.getAttribute("data-names") || "{}"); } catch (err) { names = {}; }
    function push(cls, message, text) {
      var empty = list.querySelector("[data-ticker-empty]");
      if (empty) empty.remove();
      var item = el("li", { "class": cls });
      item.appendChild(el("time", { datetime: new Date(message.time * 1000).toISOString() }, clock(message.time)));
      var link = el("a", { href: entityHref(message.entity), title: message.entity }, names[message.entity] || message.entity);
      item.appendChild(link);
      item.appendChild(el("span", { "class": "what" }, text));
      list.insertBefore(item, list.firstChild);
      while (list.children.length > max) list.removeChild(list.lastChild);
    }
    connect("/api/v1/live", {
      reading: function (m) {
        var d = m.data || {};
        push("reading", m, d.device + " · " + d.metric + " = " + formatValue(d.value) + (d.unit ? " " + d.unit : ""));
      },
      finding: function (m) { push("finding", m, m.message || m.kind); },
      condition: function (m) { push("finding", m, m.message || m.kind); }
    });
  }

  /* ---- alert queue ---------------------------------------------------------------- */

  function alertQueue(main) {
    // Conditions are announced once their change is committed, so the page reloads
    // shortly after one it does not yet show -- but never over a form someone has
    // started to fill in: then it only says the queue has changed.
    var notice = document.querySelector("[data-alerts-changed]");
    var routes = (main.getAttribute("data-routes") || "").split(" ").filter(Boolean);
    var touched = false;
    var timer = null;
    main.addEventListener("input", function () { touched = true; });
    main.addEventListener("change", function () { touched = true; });
    main.addEventListener("submit", function () { touched = true; });

    function shown(change) {
      if (routes.length && routes.indexOf(change.route) < 0) return true; // not this queue
      var id = CSS.escape(change.id);
      if (change.status === "resolved" || change.status === "closed") {
        return !document.querySelector('tr[data-condition="' + id + '"]') &&
          !!document.querySelector('[data-closed="' + id + '"]');
      }
      var row = document.querySelector('tr[data-condition="' + id + '"]');
      return !!row && parseFloat(row.getAttribute("data-updated")) >= change.updated;
    }

    connect("/api/v1/live", {
      condition: function (message) {
        if (shown(message.data || {})) return;
        if (notice) notice.hidden = false;
        if (touched || timer) return;
        timer = window.setTimeout(function () {
          timer = null;
          if (!touched) window.location.reload();
        }, 500);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var main = document.getElementById("main");
    var entity = main && main.getAttribute("data-live-entity");
    if (entity) {
      loadSparks(entity);
      connect("/api/v1/live?entity=" + encodeURIComponent(entity), {
        reading: onReading, finding: onFinding, condition: onCondition
      });
    }
    var list = document.querySelector("[data-ticker]");
    if (list && window.EventSource) ticker(list);
    if (main && main.hasAttribute("data-live-alerts") && window.EventSource) alertQueue(main);
    window.setInterval(refreshTimes, 30000);
  });
})();
