// Progressive enhancement only: every page works without this file.
// A live character count for text areas that name their counter (data-counter).
"use strict";
document.querySelectorAll("textarea[data-counter]").forEach((area) => {
  const counter = document.getElementById(area.dataset.counter);
  const most = Number(area.getAttribute("maxlength"));
  const update = () => {
    const left = most - [...area.value].length;
    counter.textContent = `${left} characters left`;
    counter.classList.toggle("over", left < 0);
  };
  area.addEventListener("input", update);
  update();
});
