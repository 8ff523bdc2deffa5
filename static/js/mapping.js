// Categories page: "select every row on this page" for bulk apply. Delegated from the
// document, so it keeps working after htmx swaps the table (filters, paging, row saves).
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var all = event.target.closest("[data-select-all]");
    if (!all) {
      return;
    }
    var boxes = document.querySelectorAll('input[type="checkbox"][name="categories"][form="bulk-form"]');
    boxes.forEach(function (box) {
      box.checked = all.checked;
    });
  });
})();
