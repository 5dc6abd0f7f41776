// A button that prints the page (the invitation letter): no inline script under the CSP.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-print]");
  if (button) {
    window.print();
  }
});
