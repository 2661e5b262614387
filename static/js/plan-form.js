// Checks the 明細書 as the clerk types: the server applies rules 1–4 to the lines on the
// form and answers with messages per line and field and the totals. Nothing is decided here.
(function () {
  "use strict";
  var form = document.querySelector("form.plan-form");
  if (!form) { return; }
  var timer = null;
  var yen = function (n) { return "金" + n.toLocaleString("ja-JP") + "円"; };

  function clear() {
    form.querySelectorAll("ul.live-errors").forEach(function (ul) { ul.textContent = ""; });
    form.querySelectorAll(".field--live-error").forEach(function (f) {
      f.classList.remove("field--live-error", "field--error");
    });
  }

  function fill(ul, messages) {
    messages.forEach(function (message) {
      var li = document.createElement("li");
      li.textContent = message;
      ul.appendChild(li);
    });
  }

  function show(data) {
    clear();
    fill(form.querySelector('ul.live-errors[data-live-for="__all__"]'), data.general || []);
    Object.keys(data.lines || {}).forEach(function (row) {
      var box = form.querySelector('[data-row="' + row + '"]');
      if (!box) { return; }
      Object.keys(data.lines[row]).forEach(function (name) {
        var field = box.querySelector('.field[data-field="' + name + '"]');
        var ul = field ? field.querySelector("ul.live-errors") : null;
        if (!ul) { ul = form.querySelector('ul.live-errors[data-live-for="__all__"]'); }
        else { field.classList.add("field--live-error", "field--error"); }
        fill(ul, data.lines[row][name]);
      });
    });
    form.querySelectorAll("[data-total]").forEach(function (el) {
      var total = (data.totals || {})[el.dataset.total];
      el.textContent = total === undefined ? yen(0) : yen(total);
    });
  }

  function check() {
    var body = new FormData(form);
    fetch(form.dataset.checkUrl, {
      method: "POST",
      body: body,
      headers: { "X-CSRFToken": body.get("csrfmiddlewaretoken") },
      credentials: "same-origin"
    }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { show(data); } })
      .catch(function () { /* the submit still checks everything */ });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(check, 400);
  }

  form.addEventListener("input", later);
  form.addEventListener("change", later);
  check();
})();
