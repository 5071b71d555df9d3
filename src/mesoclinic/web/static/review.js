// The review page: status polling while the analysis runs, and click-to-correct on the image.
// Every change is written into the plain form (checkboxes and the "hairs to add" text), which
// stays the one thing that is submitted; without JavaScript the form alone does the job.
(function () {
  const section = document.getElementById("image-review");
  if (!section) return;
  const imageId = section.dataset.image;

  if (["queued", "running"].includes(section.dataset.status)) {
    const badge = document.getElementById("analysis-status");
    const poll = () => {
      window.mcFetch(`/api/v1/images/${imageId}/analysis`).then((r) => r.json()).then((body) => {
        if (!["queued", "running"].includes(body.status)) {
          window.location.reload();
          return;
        }
        if (badge) badge.textContent = `analysis ${body.status}`;
        window.setTimeout(poll, 2000);
      }).catch(() => window.setTimeout(poll, 5000));
    };
    window.setTimeout(poll, 1500);
  }

  const stage = document.getElementById("review-stage");
  const form = document.getElementById("review-form");
  if (!stage || !form || stage.dataset.editable !== "true") return;
  document.querySelectorAll(".js-only").forEach((el) => el.classList.add("shown"));
  const width = Number(stage.dataset.width);
  const height = Number(stage.dataset.height);
  const img = document.getElementById("review-image");
  img.src = img.dataset.bare;
  const textarea = document.getElementById("f-added");
  const boxes = Array.from(form.querySelectorAll('input[name="removed"]'));
  const automatic = boxes.length;
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("class", "review-layer");
  svg.setAttribute("role", "group");
  svg.setAttribute("aria-label", "Detected hairs: click one to remove it, click elsewhere to add one");
  stage.appendChild(svg);
  const radius = Math.max(6, width / 110);

  const pair = (text) => text.split(",").map(Number);
  const addedLines = () => textarea.value.split("\n").map((l) => l.trim()).filter(Boolean);

  function drawHair(x, y, sx, sy, cls, label) {
    const g = document.createElementNS(NS, "g");
    g.setAttribute("class", `hair ${cls}`);
    const line = document.createElementNS(NS, "line");
    line.setAttribute("x1", x); line.setAttribute("y1", y);
    line.setAttribute("x2", sx); line.setAttribute("y2", sy);
    const ring = document.createElementNS(NS, "circle");
    ring.setAttribute("cx", x); ring.setAttribute("cy", y); ring.setAttribute("r", radius);
    const title = document.createElementNS(NS, "title");
    title.textContent = label;
    g.append(line, ring, title);
    svg.appendChild(g);
    return g;
  }

  let changed = false;

  function render() {
    svg.replaceChildren();
    boxes.forEach((box, i) => {
      const [x, y] = pair(box.dataset.exit);
      const [sx, sy] = pair(box.dataset.shaft);
      const g = drawHair(x, y, sx, sy, box.checked ? "removed" : "detected",
        `Hair ${i + 1}${box.checked ? " (removed)" : ""}`);
      g.dataset.index = String(i);
    });
    addedLines().forEach((text, i) => {
      const [x, y, sx, sy] = text.split(/[ ,;]+/).map(Number);
      const g = drawHair(x, y, sx ?? x, sy ?? y - 30, "added", `Added hair ${i + 1}`);
      g.dataset.added = String(i);
    });
    const removed = boxes.filter((b) => b.checked).length;
    const count = automatic - removed + addedLines().length;
    document.getElementById("pending-count").textContent =
      `Your correction: ${count} hairs (${removed} removed, ${addedLines().length} added).` +
      (changed ? " Not saved yet." : "");
  }

  svg.addEventListener("click", (event) => {
    const hair = event.target.closest("g.hair");
    if (hair && hair.dataset.index !== undefined) {
      const box = boxes[Number(hair.dataset.index)];
      box.checked = !box.checked;
    } else if (hair && hair.dataset.added !== undefined) {
      const lines = addedLines();
      lines.splice(Number(hair.dataset.added), 1);
      textarea.value = lines.join("\n");
    } else {
      const point = svg.createSVGPoint();
      point.x = event.clientX; point.y = event.clientY;
      const at = point.matrixTransform(svg.getScreenCTM().inverse());
      const x = Math.round(Math.min(Math.max(at.x, 0), width - 1));
      const y = Math.round(Math.min(Math.max(at.y, 0), height - 1));
      const lines = addedLines();
      lines.push(`${x}, ${y}, ${x}, ${Math.max(0, y - Math.round(height / 30))}`);
      textarea.value = lines.join("\n");
    }
    changed = true;
    render();
  });
  const edited = () => { changed = true; render(); };
  form.addEventListener("change", edited);
  textarea.addEventListener("input", edited);
  render();
})();
