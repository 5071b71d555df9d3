// Small progressive enhancements; every page works without JavaScript.
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  // fetch() wrapper for same-origin JSON calls from pages (cookie auth needs the CSRF header).
  window.mcFetch = function (url, options = {}) {
    const headers = Object.assign({ "X-CSRF-Token": csrf, "Accept": "application/json" },
      options.headers || {});
    return fetch(url, Object.assign({ credentials: "same-origin" }, options, { headers }));
  };
  // "Go back" links: the previous page when there is one, else their href (the dashboard).
  document.querySelectorAll("a[data-back]").forEach((link) => {
    link.addEventListener("click", (event) => {
      if (window.history.length > 1) { event.preventDefault(); window.history.back(); }
    });
  });
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
})();
