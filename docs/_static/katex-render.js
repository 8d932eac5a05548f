// Sets the TeX of every math element of the page with KaTeX (loaded before this file).
document.addEventListener("DOMContentLoaded", () => {
  for (const el of document.querySelectorAll(".math")) {
    katex.render(el.textContent, el, {
      displayMode: el.classList.contains("math-display"),
      throwOnError: false,
    });
  }
});
