// Draw each dashboard chart from the JSON figure embedded beside its container. Progressive
// enhancement: without JavaScript (or plotly) the page keeps its data tables and says the same.
// No inline script: the figures are <script type="application/json"> data, read here.
(function () {
  "use strict";
  var Plotly = window.Plotly;
  if (!Plotly) {
    return;
  }
  var containers = document.querySelectorAll("[data-chart-figure]");
  Array.prototype.forEach.call(containers, function (container) {
    var source = document.getElementById(container.getAttribute("data-chart-figure"));
    if (!source) {
      return;
    }
    var figure;
    try {
      figure = JSON.parse(source.textContent);
    } catch (error) {
      return; // the table beside it still has the figures
    }
    container.hidden = false;
    container.setAttribute("role", "img");
    container.setAttribute("aria-label", container.getAttribute("data-chart-label") || "");
    Plotly.newPlot(container, figure.data || [], figure.layout || {}, {
      staticPlot: true,
      displayModeBar: false,
      responsive: true,
    });
  });
})();
