// Before/after: under each side-by-side pair, an overlay of the two pictures with a slider that
// wipes from "before" to "after". The side-by-side pair works without this script.
(function () {
  document.querySelectorAll("[data-overlay]").forEach(function (pair, index) {
    const pictures = pair.querySelectorAll("img");
    if (pictures.length !== 2) return;
    const box = document.createElement("div");
    box.className = "ba-overlay";
    const under = pictures[0].cloneNode();
    const top = pictures[1].cloneNode();
    top.className = "ba-top";
    top.alt = "";
    const label = document.createElement("label");
    const slider = document.createElement("input");
    slider.type = "range";
    slider.min = "0";
    slider.max = "100";
    slider.value = "50";
    slider.id = "ba-slider-" + index;
    label.append("Before", slider, "After");
    const wipe = function () { top.style.clipPath = "inset(0 " + (100 - slider.value) + "% 0 0)"; };
    slider.addEventListener("input", wipe);
    wipe();
    box.append(under, top, label);
    pair.after(box);
  });
})();
