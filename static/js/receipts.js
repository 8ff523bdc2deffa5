// Receipt uploads: drag and drop onto the form, and a check of the file against the ledger's
// limits (from the form's data attributes) before anything is sent. The server checks again,
// by the file's real type; this only spares the person a long upload that would be refused.
// Events are delegated from the document, so the form htmx swaps in after an upload works too.
(function () {
  "use strict";

  var SELECTOR = "form[data-receipt-upload]";

  function megabytes(bytes) {
    return (bytes / 1048576).toFixed(1) + " MB";
  }

  function problem(form, file) {
    if (!file) return "Choose a file first.";
    if (file.size === 0) return "The file is empty.";
    var platform = form.dataset.platform || "Your accounting software";
    var max = parseInt(form.dataset.maxBytes || "0", 10);
    if (max && file.size > max) {
      return "The file is " + megabytes(file.size) + "; " + platform + " takes up to " +
        Math.floor(max / 1048576) + " MB.";
    }
    var allowed = (form.dataset.extensions || "").split(",").filter(Boolean);
    var dot = file.name.lastIndexOf(".");
    var extension = dot >= 0 ? file.name.slice(dot + 1).toUpperCase() : "";
    if (allowed.length && allowed.indexOf(extension) === -1) {
      return platform + " does not take " + (extension ? "." + extension.toLowerCase() : "these") +
        " files. Allowed: " + allowed.join(", ") + ".";
    }
    return "";
  }

  function show(form, text, bad) {
    var hint = form.querySelector("[data-hint]");
    var input = form.querySelector("input[type=file]");
    if (hint) {
      hint.textContent = text;
      hint.classList.toggle("error", !!bad);
    }
    if (input) {
      if (bad) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
  }

  function check(form) {
    var input = form.querySelector("input[type=file]");
    var file = input && input.files && input.files[0];
    var why = problem(form, file);
    if (why) show(form, why, true);
    else show(form, file.name + " (" + megabytes(file.size) + ") is ready to upload.", false);
    return !why;
  }

  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest(SELECTOR);
    if (form && event.target.type === "file") check(form);
  });

  // Capture phase: a file the ledger would refuse stops here, before htmx (or the browser)
  // sends anything.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches && form.matches(SELECTOR) && !check(form)) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  ["dragenter", "dragover"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      var form = event.target.closest && event.target.closest(SELECTOR);
      if (!form) return;
      event.preventDefault();
      form.classList.add("dragging");
    });
  });

  document.addEventListener("dragleave", function (event) {
    var form = event.target.closest && event.target.closest(SELECTOR);
    if (form && !form.contains(event.relatedTarget)) form.classList.remove("dragging");
  });

  document.addEventListener("drop", function (event) {
    var form = event.target.closest && event.target.closest(SELECTOR);
    if (!form) return;
    event.preventDefault();
    form.classList.remove("dragging");
    var input = form.querySelector("input[type=file]");
    if (!input || !event.dataTransfer || !event.dataTransfer.files.length) return;
    input.files = event.dataTransfer.files;
    if (check(form)) form.requestSubmit();
  });

  // The upload's own progress, while the browser sends the file.
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target.closest && event.target.closest(SELECTOR);
    var bar = form && form.querySelector(".upload-progress");
    if (!bar || !event.detail.lengthComputable) return;
    bar.hidden = false;
    bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
  });
})();
