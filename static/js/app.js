// Small progressive enhancements; the site works without them.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
});
// Filters fold away on a phone only: from the large breakpoint on, the browse page's <details> starts open.
document.addEventListener("DOMContentLoaded", function () {
  if (window.matchMedia("(min-width: 992px)").matches) {
    document.querySelectorAll("details[data-open-wide]").forEach(function (details) { details.open = true; });
  }
});
