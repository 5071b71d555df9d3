// Images tab: batch upload with one request (and progress bar) per file, then each trichoscopy
// image's analysis status followed without reloading. Without JavaScript the form posts as is.
(function () {
  const LABELS = {
    queued: ["Analysis queued", "warn"], running: ["Analysing…", "warn"],
    done: ["Analysed", "ok"], failed: ["Analysis failed", "bad"],
  };
  const POLL_MS = 2000;
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

  function showStatus(badge, status) {
    const [text, tone] = LABELS[status] || [status, ""];
    badge.textContent = text;
    badge.className = "badge " + tone;
    badge.dataset.status = status;
  }

  // Follow one image until its newest job is done or failed.
  function follow(imageId, badge) {
    const tick = async () => {
      try {
        const r = await fetch("/api/v1/images/" + imageId, { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (!r.ok) return;
        const data = await r.json();
        if (!data.analysis) return;
        showStatus(badge, data.analysis.status);
        if (data.analysis.status === "queued" || data.analysis.status === "running") setTimeout(tick, POLL_MS);
      } catch (e) { setTimeout(tick, POLL_MS * 2); }
    };
    setTimeout(tick, POLL_MS);
  }

  document.querySelectorAll("[data-image-status]").forEach((badge) => {
    if (badge.dataset.status === "queued" || badge.dataset.status === "running") follow(badge.dataset.imageStatus, badge);
  });

  const form = document.getElementById("upload-form");
  const list = document.getElementById("upload-progress");
  if (!form || !list || !window.XMLHttpRequest) return;

  function row(file) {
    const li = document.createElement("li");
    const name = document.createElement("span"); name.textContent = file.name;
    const bar = document.createElement("progress"); bar.max = 100; bar.value = 0;
    const state = document.createElement("span"); state.className = "badge"; state.textContent = "Waiting";
    li.append(name, bar, state);
    list.append(li);
    return { li, bar, state };
  }

  function send(file, fields, ui) {
    return new Promise((resolve) => {
      const body = new FormData();
      for (const [k, v] of fields) body.append(k, v);
      body.append("file", file, file.name);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", "/api/v1/patients/" + form.dataset.patient + "/images");
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) ui.bar.value = Math.round((e.loaded / e.total) * 100); };
      xhr.onload = () => {
        let data = null;
        try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
        if (xhr.status === 201 && data && data.length) {
          const image = data[0];
          ui.bar.value = 100;
          const link = document.createElement("a");
          link.href = "/images/" + image.id; link.textContent = file.name;
          ui.li.firstChild.replaceWith(link);
          if (image.analysis) { showStatus(ui.state, image.analysis.status); ui.state.dataset.imageStatus = image.id; follow(image.id, ui.state); }
          else { ui.state.textContent = image.duplicate ? "Already stored" : "Stored"; ui.state.className = "badge ok"; }
          resolve(true);
        } else {
          ui.state.textContent = (data && data.error && data.error.message) || "Upload failed (" + xhr.status + ")";
          ui.state.className = "badge bad";
          resolve(false);
        }
      };
      xhr.onerror = () => { ui.state.textContent = "Network error"; ui.state.className = "badge bad"; resolve(false); };
      ui.state.textContent = "Uploading";
      xhr.send(body);
    });
  }

  form.addEventListener("submit", async (event) => {
    const input = form.querySelector('input[type="file"]');
    if (!input.files.length) return;
    event.preventDefault();
    const fields = [];
    for (const [k, v] of new FormData(form)) {
      // Each file is its own API create: the page form's one-time token does not go with them.
      if (k === "file" || k === "csrf_token" || k === "form_token" || v === "") continue;
      // datetime-local is clinic time without a zone; the API wants an explicit offset.
      fields.push([k, k === "taken_at" ? new Date(v).toISOString() : v]);
    }
    list.hidden = false;
    list.replaceChildren();
    const files = Array.from(input.files);
    const rows = files.map(row);
    form.querySelector("button[type=submit]").disabled = true;
    // Two at a time: quick for a batch of 8, without flooding a small server.
    let next = 0;
    const worker = async () => { while (next < files.length) { const i = next++; await send(files[i], fields, rows[i]); } };
    await Promise.all([worker(), worker()]);
    form.querySelector("button[type=submit]").disabled = false;
    input.value = "";
    list.dataset.done = "1";
  });
})();
