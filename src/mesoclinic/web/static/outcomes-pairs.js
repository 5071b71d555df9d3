// Image page: while a phototrichogram or follow-up job is queued or running, ask for the
// image's jobs every few seconds and reload once it has finished (without JavaScript the page
// refreshes itself through a <noscript> meta refresh).
(function () {
  const POLL_MS = 3000;
  document.querySelectorAll("[data-pair-job]").forEach((note) => {
    const tick = async () => {
      try {
        const r = await fetch("/api/v1/images/" + note.dataset.image + "/analysis", { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (r.ok) {
          const data = await r.json();
          const job = (data.jobs || []).find((j) => j.id === note.dataset.pairJob);
          if (job && job.status !== "queued" && job.status !== "running") { window.location.reload(); return; }
        }
      } catch (e) { /* network hiccup: try again */ }
      setTimeout(tick, POLL_MS);
    };
    setTimeout(tick, POLL_MS);
  });
})();
