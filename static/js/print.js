// 印刷する: print the page (the print stylesheet shows only the certificate, on A4).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
