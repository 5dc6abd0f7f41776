// Trellis dashboard: draws the figures the page embeds (<script type="application/json">) with
// our own plotly.js, turns clicks into pages, runs the profile's tabs, moves through a section's
// levels grid with the keyboard and keeps it live by polling its cheap "changed since" endpoint.
// No inline script anywhere (CSP).
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

  // plotly.js (our own copy, the page's heaviest file) is fetched when the first chart is to be
  // drawn, after this script has set up the page: the tabs and the levels grid work before it
  // arrives, and a page that shows no chart never loads it. Its hashed address is this tag's.
  var plotlySource = document.currentScript ? document.currentScript.dataset.plotly : "";
  var plotlyRequested = false;

  function loadPlotly() {
    if (plotlyRequested || !plotlySource) return;
    plotlyRequested = true;
    var script = document.createElement("script");
    script.src = plotlySource;
    script.addEventListener("load", drawVisible);
    document.head.appendChild(script);
  }

  // A chart waiting for plotly.js holds its figure's height already, so that drawing it moves
  // nothing below it (no layout shift).
  var NARROW_PX = 480;

  function holdRoom(element, figure) {
    var height = figure.layout && figure.layout.height;
    if (height && !element.style.minHeight) element.style.minHeight = height + "px";
  }

  function draw(element) {
    if (element.dataset.drawn || !isShown(element)) return;
    var figure = figureFor(element);
    if (!figure) return;
    if (!window.Plotly) {
      holdRoom(element, figure);
      loadPlotly();
      return;
    }
    figure.config = siteOnly(figure.config);
    element.dataset.drawn = "1";
    element.trellisFigure = figure;
    if (element.id === "overview-chart") fitColumns(element, figure.layout);
    else figure.layout.width = element.clientWidth;
    // A figure may say how to lay out on a narrow screen (trend lines drop their end labels).
    if (figure.narrow && element.clientWidth < NARROW_PX) Object.assign(figure.layout, figure.narrow);
    window.Plotly.newPlot(element, figure.data, figure.layout, figure.config).then(function () {
      element.classList.add("is-drawn");
      if (element.id === "overview-chart") overviewReady(element);
      if (element.dataset.barUrl) linkBars(element);
    });
  }

  // A bar whose customdata holds a key opens the page that the chart's URL template makes of it
  // (data-bar-url, "{key}" filled in, as the overview's codes open theirs). Bars take no focus:
  // the table beside the chart holds the same links for the keyboard.
  function linkBars(element) {
    // The pointer over a linked bar (Plotly redraws its drag layer on a resize: found each time).
    function pointer(cursor) {
      var dragLayer = element.querySelector(".nsewdrag");
      if (dragLayer) dragLayer.style.cursor = cursor;
    }
    function linked(event) {
      var point = event.points && event.points[0];
      return point && point.customdata !== null && point.customdata !== undefined ? point : null;
    }
    element.on("plotly_click", function (event) {
      var point = linked(event);
      if (point) window.location.href = fill(element.dataset.barUrl, { key: encodeURIComponent(point.customdata) });
    });
    element.on("plotly_hover", function (event) {
      if (linked(event)) pointer("pointer");
    });
    element.on("plotly_unhover", function () { pointer(""); });
  }

  function drawVisible() {
    document.querySelectorAll("[data-figure]").forEach(draw);
  }

  // --- the section overview: the class's bars ---------------------------------------------------

  // Columns share the width there is (30 to 90 px each; narrower scrolls sideways), and their
  // codes lie flat when there is room for them.
  function fitColumns(element, layout) {
    var columns = Math.max(1, element.trellisFigure.meta.standard_ids.length);
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
    var grid = document.getElementById("heatmap");
    element.on("plotly_click", function (event) {
      var point = event.points && event.points[0];
      if (!point || point.data.type !== "bar" || !grid) return;
      listBarStudents(grid, point.pointIndex, point.data.meta.level, point.data.name);
    });
    linkColumnLabels(element);
    element.on("plotly_afterplot", function () { linkColumnLabels(element); });
    window.addEventListener("resize", function () { refit(element); });
    // Levels that changed before the bars were drawn.
    if (grid && grid.querySelector("td.ch")) recount(grid);
  }

  // Column codes under the bars open the standard's page (the grid's codes are links too).
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

  // --- the section overview: the levels grid ----------------------------------------------------
  // A data grid (WAI-ARIA APG): one Tab stop, whichever cell was last reached (roving tabindex);
  // the arrow keys move, Home and End go to a row's ends (with Ctrl, the grid's), Page Up and Down
  // ten rows; Enter on a level opens that student's history on that standard, on a name or a
  // code follows its link. Live changes recolour and relabel the cells.

  var PAGE_ROWS = 10;

  function levelOf(cell) {
    var found = /(?:^|\s)lv-(\d+)/.exec(cell.className);
    return found ? parseInt(found[1], 10) : null;
  }

  function overviewMeta() {
    var source = document.getElementById("overview-figure");
    return source ? JSON.parse(source.textContent).meta : null;
  }

  // What takes the focus at a position: a header's link, or the cell itself.
  function focusTarget(cell) {
    return cell.querySelector("a") || cell;
  }

  // A level cell's label in full, as a screen reader says it when the keyboard reaches it:
  // "Lovelace, Ada, 4.NF.A.1: Mastery" (the page gives the level's words alone).
  function labelFor(grid, cell, words) {
    return cell.parentNode.cells[0].textContent + ", " +
      grid.tHead.rows[0].cells[cell.cellIndex].textContent + ": " + words;
  }

  function nameInFull(grid, cell) {
    if (cell.tagName !== "TD" || cell.dataset.named) return;
    cell.setAttribute("aria-label", labelFor(grid, cell, cell.getAttribute("aria-label")));
    cell.dataset.named = "1";
  }

  function cellUrl(grid, cell) {
    var row = cell.parentNode;
    var header = grid.tHead.rows[0].cells[cell.cellIndex];
    return fill(grid.dataset.cellUrl, { student: row.dataset.student, standard: header.dataset.standard });
  }

  function setUpGrid(grid) {
    var rows = grid.rows;  // the header row, then a row per student
    var active = grid.querySelector('[tabindex="0"]');

    function activate(target) {
      if (active && active !== target) active.tabIndex = -1;
      nameInFull(grid, target);
      target.tabIndex = 0;
      active = target;
    }
    if (active) activate(active);

    function moveTo(rowIndex, columnIndex) {
      var row = rows[Math.max(0, Math.min(rows.length - 1, rowIndex))];
      var cell = row.cells[Math.max(0, Math.min(row.cells.length - 1, columnIndex))];
      var target = focusTarget(cell);
      activate(target);
      target.focus({ preventScroll: true });
      // Nearest, past the sticky names and codes (the box's scroll padding is their size).
      cell.scrollIntoView({ block: "nearest", inline: "nearest" });
    }

    grid.addEventListener("keydown", function (event) {
      var cell = event.target.closest("th, td");
      if (!cell || !grid.contains(cell) || event.altKey || event.metaKey) return;
      var r = cell.parentNode.rowIndex;
      var c = cell.cellIndex;
      var last = rows[r].cells.length - 1;
      var to = null;
      switch (event.key) {
        case "ArrowRight": to = [r, c + 1]; break;
        case "ArrowLeft": to = [r, c - 1]; break;
        case "ArrowDown": to = [r + 1, c]; break;
        case "ArrowUp": to = [r - 1, c]; break;
        case "Home": to = event.ctrlKey ? [0, 0] : [r, 0]; break;
        case "End": to = event.ctrlKey ? [rows.length - 1, last] : [r, last]; break;
        case "PageDown": to = [r + PAGE_ROWS, c]; break;
        case "PageUp": to = [r - PAGE_ROWS, c]; break;
        case "Enter":
          if (cell.tagName === "TD") {
            event.preventDefault();
            window.location.href = cellUrl(grid, cell);
          }
          return;  // a name's or a code's link follows itself
        default: return;
      }
      event.preventDefault();
      moveTo(to[0], to[1]);
    });
    // A click (or any focus) on a cell or link makes it the grid's Tab stop.
    grid.addEventListener("focusin", function (event) {
      var cell = event.target.closest("th, td");
      if (cell && grid.contains(cell) && event.target === focusTarget(cell)) activate(event.target);
    });
    grid.addEventListener("click", function (event) {
      var cell = event.target.closest("td");
      if (cell && grid.contains(cell)) window.location.href = cellUrl(grid, cell);
    });
    // The label as a tooltip, and a shortened name in full, once the pointer is on them.
    grid.addEventListener("mouseover", function (event) {
      var cell = event.target.closest("td");
      if (cell && !cell.title) {
        nameInFull(grid, cell);
        cell.title = cell.getAttribute("aria-label");
      }
      var name = event.target.closest("tbody th a");
      if (name && !name.title && name.scrollWidth > name.clientWidth) name.title = name.textContent;
    });
    padForStickyHeaders(grid);
    window.addEventListener("resize", function () { padForStickyHeaders(grid); });

    var seen = document.getElementById("mark-seen");
    if (seen) seen.addEventListener("click", function () { markSeen(grid); });
    var pollMs = parseInt(grid.dataset.pollMs || "0", 10);
    if (pollMs > 0) schedulePoll(grid, pollMs);
  }

  // A cell reached with the keyboard scrolls into view beside the sticky names and codes, not
  // under them.
  function padForStickyHeaders(grid) {
    var box = grid.parentNode;
    var corner = grid.tHead.rows[0].cells[0];
    box.style.scrollPaddingTop = corner.offsetHeight + "px";
    box.style.scrollPaddingLeft = corner.offsetWidth + "px";
  }

  // A bar segment counts students at one level on one standard: say exactly which.
  function listBarStudents(grid, col, level, levelName) {
    var panel = document.getElementById("bar-students");
    if (!panel) return;
    var header = grid.tHead.rows[0].cells[col + 1];
    var found = [];
    Array.prototype.forEach.call(grid.tBodies[0].rows, function (row) {
      var cell = row.cells[col + 1];
      if (cell && levelOf(cell) === level) found.push(cell);
    });
    panel.textContent = "";
    var heading = document.createElement("h3");
    heading.textContent = header.textContent + ": " + found.length + " at " + levelName.replace(/^\S+\s/, "");
    panel.appendChild(heading);
    var list = document.createElement("ul");
    list.className = "plain-list columns";
    found.forEach(function (cell) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = cellUrl(grid, cell);
      link.textContent = cell.parentNode.cells[0].textContent;
      item.appendChild(link);
      list.appendChild(item);
    });
    if (!found.length) {
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

  var CHANGED = " (changed)";

  function schedulePoll(grid, pollMs) {
    window.setTimeout(function () { poll(grid, pollMs); }, pollMs);
  }

  function poll(grid, pollMs) {
    if (document.hidden) { schedulePoll(grid, pollMs); return; }
    var url = grid.dataset.changesUrl + "?since=" + encodeURIComponent(grid.dataset.checkedAt);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (answer) applyChanges(grid, answer);
      })
      .catch(function () { /* offline for a moment: try again next time */ })
      .then(function () { schedulePoll(grid, pollMs); });
  }

  function applyChanges(grid, answer) {
    grid.dataset.checkedAt = answer.checked_at;
    var meta = overviewMeta();
    if (!meta) return;
    var updated = 0;
    answer.changes.forEach(function (change) {
      var row = grid.querySelector('tr[data-student="' + change.student + '"]');
      var col = meta.standard_ids.indexOf(change.standard);
      var cell = row && col >= 0 ? row.cells[col + 1] : null;
      if (!cell) return;
      var text = meta.level_symbols[String(change.level)] + (change.overridden ? meta.override_mark : "");
      if (levelOf(cell) === change.level && cell.textContent === text) return;
      cell.className = "lv-" + change.level + (change.overridden ? " ov" : "") + " ch";
      cell.textContent = text;
      cell.setAttribute("aria-label", labelFor(grid, cell,
        meta.level_names[String(change.level)] + (change.overridden ? " (overridden)" : "") + CHANGED));
      cell.dataset.named = "1";
      cell.removeAttribute("title");
      updated += 1;
    });
    var message = document.getElementById("live-message");
    var pending = answer.pending ? " Updating " + answer.pending + " estimate" + (answer.pending === 1 ? "" : "s") + "…" : "";
    if (updated) {
      recount(grid);
      message.textContent = " " + updated + " level" + (updated === 1 ? "" : "s") + " changed (outlined)." + pending;
      document.getElementById("mark-seen").hidden = false;
    } else if (message) {
      var kept = grid.querySelectorAll("td.ch").length;
      message.textContent = (kept ? " " + kept + " changed level" + (kept === 1 ? "" : "s") + " outlined." : "") + pending;
    }
  }

  // The bars and their shares follow the grid's levels.
  function recount(grid) {
    var chart = document.getElementById("overview-chart");
    var figure = chart && chart.trellisFigure;
    if (!figure || !chart.classList.contains("is-drawn")) return;
    var meta = figure.meta;
    var levels = Array.prototype.map.call(grid.tBodies[0].rows, function (row) {
      return Array.prototype.slice.call(row.cells, 1).map(levelOf);
    });
    figure.data.forEach(function (bar) {
      bar.y = meta.standard_ids.map(function (_, col) {
        return levels.filter(function (row) { return row[col] === bar.meta.level; }).length;
      });
    });
    figure.layout.annotations.forEach(function (annotation, col) {
      var measured = levels.filter(function (row) { return row[col] !== meta.no_evidence; });
      var atMastery = measured.filter(function (row) { return row[col] >= meta.mastery_level; });
      annotation.text = measured.length ? Math.round(100 * atMastery.length / measured.length) + "%" : "–";
    });
    window.Plotly.react(chart, figure.data, figure.layout, figure.config);
  }

  function markSeen(grid) {
    grid.querySelectorAll("td.ch").forEach(function (cell) {
      cell.classList.remove("ch");
      var label = cell.getAttribute("aria-label");
      if (label && label.slice(-CHANGED.length) === CHANGED) {
        cell.setAttribute("aria-label", label.slice(0, -CHANGED.length));
      }
      cell.removeAttribute("title");
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
      // A tab is also a link to the page with its panel (for before this script runs): here
      // it opens the panel in place instead.
      tab.addEventListener("click", function (event) {
        event.preventDefault();
        select(index, false, true);
      });
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
    var grid = document.getElementById("heatmap");
    if (grid) setUpGrid(grid);
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
