// Forms marked data-confirm ask before they act (e.g. 申込を取り下げる cannot be undone).
document.addEventListener("submit", function (event) {
  var message = event.target.dataset && event.target.dataset.confirm;
  if (message && !window.confirm(message)) { event.preventDefault(); }
});
