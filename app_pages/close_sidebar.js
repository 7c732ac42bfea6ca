// On a phone, the sidebar closes once a page link in it is tapped.
//
// Streamlit's own navigation closed the sidebar after a tap on a narrow screen (there the sidebar
// covers the page); the links that replace it (navigation.py) are plain st.page_link elements, which
// do not. So a tap on one of them, on a screen narrow enough for the sidebar to cover the page, also
// presses the sidebar's own close button, as the navigation did.
(() => {
  if (window.digitStudioCloseSidebar) return; // once per tab: the listener outlives reruns and pages
  window.digitStudioCloseSidebar = true;
  const coversThePage = () => window.matchMedia("(max-width: 767.98px)").matches; // Streamlit's "md" breakpoint
  document.addEventListener(
    "click",
    (event) => {
      const target = event.target;
      if (!(target instanceof Element) || !target.closest(".st-key-page_links a") || !coversThePage()) return;
      const close = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
      if (close) window.setTimeout(() => close.click(), 0); // after the link's own navigation starts
    },
    { capture: true }
  );
})();
