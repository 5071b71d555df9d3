// Assessment form: the live candidacy decision panel (moved out of the page for the CSP).
// Live decision panel: re-ask the server whenever the form changes (nothing is stored).
// Runs on DOMContentLoaded because app.js (window.mcFetch) is a deferred script.
document.addEventListener("DOMContentLoaded", function () {
  const form = document.getElementById("assessment-form");
  const panel = document.getElementById("decision-panel");
  if (!form || !panel || !window.mcFetch) return;
  // One request in flight at a time; changes made meanwhile are sent once it returns.
  let timer = null, busy = false, again = false;
  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const response = await window.mcFetch(form.dataset.preview, { method: "POST", body: new FormData(form) });
      if (response.ok) panel.innerHTML = await response.text();
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  }
  const schedule = () => { clearTimeout(timer); timer = setTimeout(refresh, 250); };
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  if (form.elements.diagnosis.value) refresh();
});
