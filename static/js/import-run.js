// Polls an import run's status while it runs and moves its progress bar; reloads the page
// once the run has finished, so the server renders the report.
(function () {
  "use strict";
  var bar = document.getElementById("import-progress");
  if (!bar || bar.dataset.finished === "true") {
    return;
  }
  var statusText = document.getElementById("import-status");
  var percentText = document.getElementById("import-percent");
  var labelText = document.getElementById("import-label");
  var names = { queued: "Queued", running: "Running", succeeded: "Succeeded", failed: "Failed" };

  function poll() {
    fetch(bar.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (run) {
        bar.value = run.percent;
        bar.textContent = run.percent + "%";
        percentText.textContent = run.percent + "%";
        statusText.textContent = names[run.status] || run.status;
        labelText.textContent = run.label;
        if (run.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 3000);
      });
  }
  window.setTimeout(poll, 500);
})();
