// The top bar's menus are <details> disclosures: they open and close from the keyboard without
// this script. It only tidies up: one menu open at a time, and Escape, a click elsewhere or
// moving the focus out of a menu closes it (Escape puts the focus back on its summary).
(function () {
  "use strict";
  const menus = Array.from(document.querySelectorAll("details.nav-menu"));
  if (!menus.length) return;

  function closeAll(except) {
    for (const menu of menus) {
      if (menu !== except && menu.open) menu.open = false;
    }
  }

  for (const menu of menus) {
    menu.addEventListener("toggle", () => {
      if (menu.open) closeAll(menu);
    });
    menu.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
        event.preventDefault();
      }
    });
    menu.addEventListener("focusout", (event) => {
      if (menu.open && event.relatedTarget && !menu.contains(event.relatedTarget)) {
        menu.open = false;
      }
    });
  }

  document.addEventListener("click", (event) => {
    for (const menu of menus) {
      if (menu.open && !menu.contains(event.target)) menu.open = false;
    }
  });
})();
