// One tap selects the point under the finger on a Plotly chart that selects on click.
//
// Plotly selects a clicked point from the hover data of the last pointer move over the plot. A mouse
// moves (and hovers) before it clicks; a finger does not: the hover is made only by the tap's own
// click handling, after the selection was taken. So on a touch screen a first tap selected nothing
// and every later tap selected the point tapped the time before. A touch that starts on such a
// chart's drag layer is therefore announced to Plotly as a pointer move to that spot first.
(() => {
  if (window.digitStudioTapToSelect) return; // once per tab: the listener outlives reruns and pages
  window.digitStudioTapToSelect = true;
  document.addEventListener(
    "touchstart",
    (event) => {
      const layer = event.target;
      if (!(layer instanceof Element) || !layer.classList.contains("nsewdrag")) return;
      const plot = layer.closest(".js-plotly-plot");
      const clickmode = plot && plot._fullLayout ? String(plot._fullLayout.clickmode) : "";
      if (!clickmode.includes("select") || event.touches.length !== 1) return;
      const touch = event.touches[0];
      layer.dispatchEvent(
        new MouseEvent("mousemove", { clientX: touch.clientX, clientY: touch.clientY, bubbles: true, view: window })
      );
    },
    { capture: true, passive: true }
  );
})();
