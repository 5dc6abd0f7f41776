// Trellis dashboard: draws the figures the page embeds (<script type="application/json">) with
// our own plotly.js, turns clicks into pages, runs the profile's tabs and keeps an open section
// page live by polling its cheap "changed since" endpoint. No inline script anywhere (CSP).
(function () {
  "use strict";

  function figureFor(element) {
    var source = document.getElementById(element.dataset.figure);
    return source ? JSON.parse(source.textContent) : null;
  }

  function isShown(element) {
    return element.offsetParent !== null;
  }

  // Charts stay on the site, whatever a figure's own config says: no share, cloud or edit action.
  var SITE_ONLY = {
    displaylogo: false,
    showSendToCloud: false,
    showEditInChartStudio: false,
    showLink: false,
    plotlyServerURL: ""
  };
  var OFF_SITE_BUTTONS = ["sendChartToCloud", "sendDataToCloud", "editInChartStudio"];

  function siteOnly(config) {
    var safe = Object.assign({}, config || {}, SITE_ONLY);
    safe.modeBarButtonsToRemove = (safe.modeBarButtonsToRemove || []).concat(OFF_SITE_BUTTONS);
    return safe;
  }

  function draw(element) {
    if (element.dataset.drawn || !window.Plotly || !isShown(element)) return;
    var figure = figureFor(element);
    if (!figure) return;
    figure.config = siteOnly(figure.config);
    element.dataset.drawn = "1";
    element.trellisFigure = figure;
    if (element.id === "overview-chart") fitColumns(element, figure.layout);
    else figure.layout.width = element.clientWidth;
    window.Plotly.newPlot(element, figure.data, figure.layout, figure.config).then(function () {
      element.classList.add("is-drawn");
      if (element.id === "overview-chart") overviewReady(element);
    });
  }

  function drawVisible() {
    document.querySelectorAll("[data-figure]").forEach(draw);
  }

  // --- the section overview ---------------------------------------------------------------------

  // Columns share the width there is (30 to 90 px each; narrower scrolls sideways), and their
  // codes lie flat when there is room for them.
  function fitColumns(element, layout) {
    var columns = Math.max(1, element.trellisFigure.data[0].x.length);
    var margins = layout.margin.l + layout.margin.r;
    var room = element.parentNode.clientWidth - margins - 2;
    var columnPx = Math.max(30, Math.min(90, Math.floor(room / columns)));
    layout.width = margins + columns * columnPx;
    layout.xaxis.tickangle = columnPx >= 80 ? 0 : -50;
  }

  function refit(element) {
    var layout = element.trellisFigure.layout;
    var before = layout.width;
    fitColumns(element, layout);
    if (layout.width !== before) {
      window.Plotly.relayout(element, { width: layout.width, "xaxis.tickangle": layout.xaxis.tickangle });
    }
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) { return String(values[key]); });
  }

  function overviewReady(element) {
    var figure = element.trellisFigure;
    var meta = figure.meta;

    element.on("plotly_click", function (event) {
      var point = event.points && event.points[0];
      if (!point) return;
      if (point.data.type === "heatmap") {
        var row = point.pointIndex[0];
        var col = point.pointIndex[1];
        window.location.href = fill(element.dataset.cellUrl, {
          student: meta.student_ids[row], standard: meta.standard_ids[col]
        });
      } else if (point.data.type === "bar") {
        listBarStudents(element, point.pointIndex, point.data.meta.level, point.data.name);
      }
    });
    linkColumnLabels(element);
    element.on("plotly_afterplot", function () { linkColumnLabels(element); });
    var seen = document.getElementById("mark-seen");
    if (seen) seen.addEventListener("click", function () { markSeen(element); });
    var pollMs = parseInt(element.dataset.pollMs || "0", 10);
    if (pollMs > 0) schedulePoll(element, pollMs);
    window.addEventListener("resize", function () { refit(element); });
  }

  // Column codes above the heatmap open the standard's page.
  function linkColumnLabels(element) {
    var meta = element.trellisFigure.meta;
    element.querySelectorAll(".xtick text").forEach(function (label, index) {
      if (label.dataset.linked || meta.standard_ids[index] === undefined) return;
      label.dataset.linked = "1";
      label.classList.add("chart-link");
      label.style.cursor = "pointer";
      label.addEventListener("click", function () {
        window.location.href = fill(element.dataset.standardUrl, { standard: meta.standard_ids[index] });
      });
    });
  }

  // A bar segment counts students at one level on one standard: say exactly which.
  function listBarStudents(element, col, level, levelName) {
    var figure = element.trellisFigure;
    var heatmap = figure.data[0];
    var meta = figure.meta;
    var panel = document.getElementById("bar-students");
    if (!panel) return;
    var names = [];
    heatmap.z.forEach(function (row, index) {
      if (row[col] === level) names.push(index);
    });
    panel.textContent = "";
    var heading = document.createElement("h3");
    heading.textContent = heatmap.x[col] + ": " + names.length + " at " + levelName.replace(/^\S+\s/, "");
    panel.appendChild(heading);
    var list = document.createElement("ul");
    list.className = "plain-list columns";
    names.forEach(function (row) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = fill(element.dataset.cellUrl, { student: meta.student_ids[row], standard: meta.standard_ids[col] });
      link.textContent = heatmap.y[row];
      item.appendChild(link);
      list.appendChild(item);
    });
    if (!names.length) {
      var none = document.createElement("li");
      none.textContent = "No students.";
      list.appendChild(none);
    }
    panel.appendChild(list);
    var close = document.createElement("button");
    close.type = "button";
    close.className = "small-button";
    close.textContent = "Close";
    close.addEventListener("click", function () { panel.hidden = true; });
    panel.appendChild(close);
    panel.hidden = false;
    heading.tabIndex = -1;
    heading.focus();
  }

  // --- live updates -----------------------------------------------------------------------------

  var changed = {};  // "row,col" → true while not yet seen

  function schedulePoll(element, pollMs) {
    window.setTimeout(function () { poll(element, pollMs); }, pollMs);
  }

  function poll(element, pollMs) {
    if (document.hidden) { schedulePoll(element, pollMs); return; }
    var url = element.dataset.changesUrl + "?since=" + encodeURIComponent(element.dataset.checkedAt);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (answer) applyChanges(element, answer);
      })
      .catch(function () { /* offline for a moment: try again next time */ })
      .then(function () { schedulePoll(element, pollMs); });
  }

  function applyChanges(element, answer) {
    element.dataset.checkedAt = answer.checked_at;
    var figure = element.trellisFigure;
    var meta = figure.meta;
    var heatmap = figure.data[0];
    var updated = 0;
    answer.changes.forEach(function (change) {
      var row = meta.student_ids.indexOf(change.student);
      var col = meta.standard_ids.indexOf(change.standard);
      if (row < 0 || col < 0) return;
      var text = meta.level_symbols[String(change.level)] + (change.overridden ? meta.override_mark : "");
      if (heatmap.z[row][col] === change.level && heatmap.text[row][col] === text) return;
      heatmap.z[row][col] = change.level;
      heatmap.text[row][col] = text;
      changed[row + "," + col] = true;
      updateTableCell(row, col, change, text, meta);
      updated += 1;
    });
    var message = document.getElementById("live-message");
    var pending = answer.pending ? " Updating " + answer.pending + " estimate" + (answer.pending === 1 ? "" : "s") + "…" : "";
    if (updated) {
      recount(figure);
      markChanged(figure);
      window.Plotly.react(element, figure.data, figure.layout, figure.config);
      message.textContent = " " + updated + " level" + (updated === 1 ? "" : "s") + " changed (outlined)." + pending;
      document.getElementById("mark-seen").hidden = false;
    } else if (message) {
      var kept = Object.keys(changed).length;
      message.textContent = (kept ? " " + kept + " changed level" + (kept === 1 ? "" : "s") + " outlined." : "") + pending;
    }
  }

  function updateTableCell(row, col, change, text, meta) {
    var tableRow = document.querySelector('#grid-table tr[data-student="' + change.student + '"]');
    if (!tableRow) return;
    var cell = tableRow.children[col + 1];
    if (!cell) return;
    cell.className = "lv-" + change.level + (change.overridden ? " overridden" : "") + " changed";
    cell.textContent = text + " ";
    var words = document.createElement("span");
    words.className = "visually-hidden";
    words.textContent = meta.level_names[String(change.level)] + (change.overridden ? " (overridden)" : "") + " (changed)";
    cell.appendChild(words);
  }

  // Bars and shares follow the heatmap's levels.
  function recount(figure) {
    var heatmap = figure.data[0];
    var meta = figure.meta;
    figure.data.slice(1).forEach(function (bar) {
      bar.y = heatmap.x.map(function (_, col) {
        return heatmap.z.filter(function (row) { return row[col] === bar.meta.level; }).length;
      });
    });
    figure.layout.annotations.forEach(function (annotation, col) {
      var measured = heatmap.z.filter(function (row) { return row[col] !== meta.no_evidence; });
      var atMastery = measured.filter(function (row) { return row[col] >= meta.mastery_level; });
      annotation.text = measured.length ? Math.round(100 * atMastery.length / measured.length) + "%" : "–";
    });
  }

  function markChanged(figure) {
    figure.layout.shapes = Object.keys(changed).map(function (key) {
      var parts = key.split(",").map(Number);
      return {
        type: "rect", xref: "x", yref: "y",
        x0: parts[1] - 0.5, x1: parts[1] + 0.5, y0: parts[0] - 0.5, y1: parts[0] + 0.5,
        line: { color: "#1d2430", width: 3 }
      };
    });
  }

  function markSeen(element) {
    changed = {};
    var figure = element.trellisFigure;
    figure.layout.shapes = [];
    window.Plotly.react(element, figure.data, figure.layout, figure.config);
    document.querySelectorAll("#grid-table td.changed").forEach(function (cell) {
      cell.classList.remove("changed");
    });
    document.getElementById("mark-seen").hidden = true;
    document.getElementById("live-message").textContent = "";
  }

  // --- tabs (the student profile) ---------------------------------------------------------------

  // A panel the page left out (data-src) is fetched the first time its tab opens: each tab is
  // its own read of the student's data, and the access log names it.
  function loadPanel(panel) {
    if (!panel.dataset.src || panel.dataset.loading) return;
    panel.dataset.loading = "1";
    panel.setAttribute("aria-busy", "true");
    // The page's own link to the tab, kept from before the first attempt (not a failed one's).
    if (panel.trellisFallback === undefined) panel.trellisFallback = panel.innerHTML;
    var fallback = panel.trellisFallback;
    panel.innerHTML = '<p class="meta" role="status">Loading…</p>';
    function failed(message) {
      panel.innerHTML = '<p class="message error" role="alert"></p>' + fallback;
      panel.firstChild.textContent = message;
    }
    function problem(message) {
      var error = new Error(message);
      error.forReader = true;  // a message written for the reader, not the browser's own
      return error;
    }
    window.fetch(panel.dataset.src, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        // A signed-out session answers with the sign-in page, after a redirect.
        if (response.redirected) throw problem("Your session has ended: reload the page to sign in again.");
        if (!response.ok) throw problem("This tab did not load (the server answered " + response.status + "). Open it again, or use the link below.");
        return response.text();
      })
      .then(function (html) {
        panel.innerHTML = html;
        delete panel.dataset.src;
        drawVisible();
        if (window.Plotly) fitWidths();
      })
      .catch(function (error) {
        failed(error && error.forReader ? error.message : "This tab did not load: check the connection, then open it again.");
      })
      .then(function () {
        delete panel.dataset.loading;
        panel.removeAttribute("aria-busy");
      });
  }

  function setUpTabs(container) {
    var list = container.querySelector("[role=tablist]");
    var tabs = Array.prototype.slice.call(list.querySelectorAll("[role=tab]"));
    var panels = tabs.map(function (tab) { return document.getElementById(tab.getAttribute("aria-controls")); });

    function select(index, focus, remember) {
      tabs.forEach(function (tab, i) {
        var on = i === index;
        tab.setAttribute("aria-selected", on ? "true" : "false");
        tab.tabIndex = on ? 0 : -1;
        panels[i].hidden = !on;
        if (on) loadPanel(panels[i]);
      });
      if (focus) tabs[index].focus();
      // A chosen tab goes in the address (so a reload or a shared link opens it again).
      if (remember && window.history && window.history.replaceState) {
        window.history.replaceState(null, "", "#" + panels[index].id);
      }
      drawVisible();
      if (window.Plotly) fitWidths();
    }

    tabs.forEach(function (tab, index) {
      tab.addEventListener("click", function () { select(index, false, true); });
      tab.addEventListener("keydown", function (event) {
        var next = null;
        if (event.key === "ArrowRight") next = (index + 1) % tabs.length;
        if (event.key === "ArrowLeft") next = (index - 1 + tabs.length) % tabs.length;
        if (event.key === "Home") next = 0;
        if (event.key === "End") next = tabs.length - 1;
        if (next !== null) { event.preventDefault(); select(next, true, true); }
      });
    });
    container.classList.add("tabs-ready");
    list.hidden = false;
    function fromHash() {
      return panels.findIndex(function (panel) { return "#" + panel.id === window.location.hash; });
    }
    var fromPage = panels.findIndex(function (panel) { return panel.id === container.dataset.shown; });
    select(fromHash() >= 0 ? fromHash() : Math.max(fromPage, 0), false, false);
    // A link to a tab on this page (#grades) opens it.
    window.addEventListener("hashchange", function () {
      if (fromHash() >= 0) select(fromHash(), false, false);
    });
  }

  // Charts follow the width of the page (their height is the figure's own): Plotly's
  // "responsive" mode would also take the height from the container, which has none.
  var resizeTimer = null;
  function fitWidths() {
    document.querySelectorAll(".chart.is-drawn").forEach(function (element) {
      if (element.id === "overview-chart" || !isShown(element)) return;
      if (Math.abs(element.trellisFigure.layout.width - element.clientWidth) > 2) {
        element.trellisFigure.layout.width = element.clientWidth;
        window.Plotly.relayout(element, { width: element.clientWidth });
      }
    });
  }

  function start() {
    window.addEventListener("resize", function () {
      window.clearTimeout(resizeTimer);
      resizeTimer = window.setTimeout(fitWidths, 100);
    });
    document.querySelectorAll("[data-tabs]").forEach(setUpTabs);
    drawVisible();
    document.querySelectorAll("details").forEach(function (details) {
      details.addEventListener("toggle", drawVisible);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
