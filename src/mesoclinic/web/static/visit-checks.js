// Visit form: live safety checks (moved out of the page for the CSP).
(function () {
  const form = document.getElementById("visit-form");
  const box = document.getElementById("visit-checks");
  const num = (v) => (v === null || v === "" ? undefined : Number(v));
  function body() {
    const fd = new FormData(form);
    const get = (k) => { const v = fd.get(k); return v === null || v === "" ? undefined : v; };
    const performed = get("performed_at");
    const lots = [];
    for (let i = 0; i < Number(form.dataset.lotRows || 0); i++) {
      if (get("lot_id_" + i)) lots.push({ lot_id: get("lot_id_" + i), volume_ml: num(fd.get("volume_ml_" + i)) });
    }
    const event = { type: get("adverse_type"), severity: get("adverse_severity"), onset: get("adverse_onset"), outcome: get("adverse_outcome") };
    const prp = fd.get("prp_given") === "on";
    return {
      patient_id: form.dataset.patient,
      performed_at: performed ? new Date(performed).toISOString() : new Date().toISOString(),
      cocktail_id: get("cocktail_id"), lots, technique: get("technique"), zones: fd.getAll("zones"),
      depth_mm: num(fd.get("depth_mm")), points: num(fd.get("points")),
      volume_per_point_ml: num(fd.get("volume_per_point_ml")), total_volume_ml: num(fd.get("total_volume_ml")),
      needle_gauge: num(fd.get("needle_gauge")), needle_length_mm: num(fd.get("needle_length_mm")),
      prp_given: prp, prp_volume_ml: prp ? num(fd.get("prp_volume_ml")) : undefined,
      pain_score: num(fd.get("pain_score")), hair_colour_last_date: get("hair_colour_last_date"),
      adverse_events: [event], confirmed_warnings: fd.getAll("confirm"),
    };
  }
  function render(checks, confirmed) {
    box.replaceChildren();
    if (!checks.length) {
      const ok = document.createElement("p"); ok.className = "check ok"; ok.textContent = "All safety checks passed.";
      box.append(ok); return;
    }
    for (const c of checks) {
      const div = document.createElement("div");
      div.className = "check " + c.severity; div.dataset.rule = c.rule_id;
      const badge = document.createElement("span");
      badge.className = "badge " + (c.severity === "refuse" || c.severity === "absolute" ? "bad" : "warn");
      badge.textContent = c.severity;
      const small = document.createElement("small"); small.className = "muted"; small.textContent = " " + c.rule_id + " · " + c.source;
      div.append(badge, " " + c.reason, small);
      if (c.severity === "warning" || c.severity === "relative") {
        const label = document.createElement("label"); label.className = "confirm";
        const box2 = document.createElement("input"); box2.type = "checkbox"; box2.name = "confirm"; box2.value = c.rule_id;
        box2.checked = confirmed.includes(c.rule_id);
        label.append(box2, " I confirm this warning"); div.append(label);
      }
      box.append(div);
    }
  }
  let timer = null;
  let inflight = null;
  let again = false;
  async function run() {
    const b = body();
    if (!b.cocktail_id || !b.lots.length || !b.zones.length || b.total_volume_ml === undefined) return;
    const r = await window.mcFetch("/api/v1/visits/check", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(b) });
    const data = await r.json();
    if (r.ok) { render(data.checks, b.confirmed_warnings); }
    else if (data.error) {
      box.replaceChildren();
      const p = document.createElement("p"); p.className = "muted"; p.textContent = "Complete the form to run the checks: " + data.error.message;
      box.append(p);
    }
  }
  // One check at a time: requests from this page never overlap, and the last edit always wins.
  async function check() {
    if (inflight) { again = true; return inflight; }
    form.dataset.checking = "1";
    inflight = run().catch(() => {});
    await inflight;
    inflight = null;
    if (again) { again = false; return check(); }
    delete form.dataset.checking;
  }
  // Offer only lots of the chosen cocktail's products (the server refuses any other anyway).
  const cocktail = document.getElementById("f-cocktail_id");
  function filterLots() {
    form.querySelectorAll("option[data-cocktail]").forEach((o) => {
      o.hidden = !!cocktail.value && o.dataset.cocktail !== cocktail.value;
    });
  }
  cocktail.addEventListener("change", filterLots);
  filterLots();
  form.addEventListener("submit", async (e) => {
    clearTimeout(timer);
    if (!inflight) return;
    e.preventDefault();
    await inflight;
    form.submit();
  });
  form.addEventListener("input", (e) => { if (e.target.name === "confirm") return; clearTimeout(timer); timer = setTimeout(check, 350); });
  form.addEventListener("change", (e) => { if (e.target.name === "confirm") return; clearTimeout(timer); timer = setTimeout(check, 150); });
})();
