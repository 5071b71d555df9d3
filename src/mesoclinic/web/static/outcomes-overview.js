// Outcomes tab: the measurement form (moved out of the page for the CSP).
// Choosing a kind picks its one unit (the server checks it either way).
(function () {
  const kind = document.getElementById("f-kind");
  const unit = document.getElementById("f-unit");
  if (!kind || !unit) return;
  kind.addEventListener("change", () => {
    const option = kind.selectedOptions[0];
    if (option && option.dataset.unit) unit.value = option.dataset.unit;
  });
})();
