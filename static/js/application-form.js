// Checks the application form as the clerk types: the server applies every rule and answers
// with messages per field, the limits and the fee estimates. Nothing here decides anything.
(function () {
  "use strict";
  var form = document.querySelector("form.application-form");
  if (!form) { return; }
  var touched = new Set();
  form.querySelectorAll(".field--error").forEach(function (f) { touched.add(f.dataset.field); });
  var timer = null;
  var termsScript = document.getElementById("terms-names");
  var termsNames = JSON.parse((termsScript && termsScript.textContent) || "{}");
  var channelsScript = document.getElementById("channel-notes");
  var channelNotes = JSON.parse((channelsScript && channelsScript.textContent) || "{}");
  var yen = function (n) { return n.toLocaleString("ja-JP") + "円"; };
  var LIMIT_LABELS = {
    max_advance: "前払金の上限：",
    min_contract: "契約保証の最低額：",
    max_intermediate: "中間前払金の上限（2割）："
  };

  function csrf() { return form.querySelector("[name=csrfmiddlewaretoken]").value; }

  function markField(name, invalid) {
    var field = form.querySelector('.field[data-field="' + name + '"]');
    if (!field) { return; }
    field.classList.toggle("field--error", invalid);
    field.querySelectorAll("input, select, textarea").forEach(function (input) {
      if (invalid) { input.setAttribute("aria-invalid", "true"); }
      else { input.removeAttribute("aria-invalid"); }
    });
  }

  function showErrors(errors) {
    form.querySelectorAll("ul.live-errors").forEach(function (ul) {
      var name = ul.dataset.liveFor;
      ul.textContent = "";
      var shown = name in errors && (name === "__all__" || touched.has(name));
      if (name !== "__all__") { markField(name, shown); }
      if (!shown) { return; }
      errors[name].forEach(function (message) {
        var li = document.createElement("li");
        li.textContent = message;
        ul.appendChild(li);
      });
    });
  }

  function showFigures(data) {
    form.querySelectorAll("[data-limit]").forEach(function (p) {
      var value = data.limits[p.dataset.limit];
      p.textContent = value === undefined ? "" : LIMIT_LABELS[p.dataset.limit] + yen(value);
    });
    form.querySelectorAll("[data-fee]").forEach(function (p) {
      var fee = data.fees[p.dataset.fee];
      p.textContent = fee ? "保証料の目安：" + yen(fee.fee) + (fee.is_demo ? "（デモ用の料率による）" : "") : "";
    });
    var refusal = form.querySelector("[data-delivery-refusal]");
    var electronic = form.querySelector("input[name=delivery][value=electronic]");
    if (refusal) { refusal.textContent = data.delivery_refusal || ""; }
    if (electronic) {
      electronic.disabled = Boolean(data.delivery_refusal);
      if (electronic.disabled && electronic.checked) {
        electronic.checked = false;
        var paper = form.querySelector("input[name=delivery][value=paper]");
        if (paper) { paper.checked = true; }
      }
    }
    showTerms();
  }

  function showTerms() {
    var select = form.querySelector("select[name=orderer]");
    var box = form.querySelector("[data-terms]");
    if (!box) { return; }
    var name = select ? termsNames[select.value] : box.querySelector("[data-terms-name]").textContent;
    var delivery = form.querySelector("input[name=delivery]:checked");
    box.hidden = !name || !delivery || delivery.value !== "electronic";
    // Write only a real change: rewriting the same text re-lays the page out, and Chromium's
    // scroll anchoring then moved the buttons away in the middle of a click.
    var shown = box.querySelector("[data-terms-name]");
    if (name && shown.textContent !== name) { shown.textContent = name; }
    showChannels(select);
  }

  // How the guarantee reaches the chosen orderer (esure's 受信箱 or the key path).
  function showChannels(select) {
    var box = form.querySelector("[data-channels]");
    if (!box || !select) { return; }
    var note = channelNotes[select.value] || "";
    box.hidden = !note;
    var shown = box.querySelector("[data-channels-text]");
    if (shown.textContent !== note) { shown.textContent = note; }
  }

  function check() {
    var body = new FormData(form);
    fetch(form.dataset.checkUrl, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrf() }
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (data) {
      if (!data) { return; }
      form.querySelectorAll(".field > .errorlist:not(.live-errors)").forEach(function (ul) {
        if (!touched.has(ul.closest(".field").dataset.field)) { return; }
        ul.remove();
      });
      showErrors(data.errors);
      showFigures(data);
    }).catch(function () { /* offline: the server checks again on save */ });
  }

  function changed(event) {
    if (event.target.name) { touched.add(event.target.name); }
    if (event.target.name === "want_advance" || event.target.name === "want_contract") {
      touched.add(event.target.name.replace("want_", "") + "_amount");
    }
    showTerms();
    clearTimeout(timer);
    timer = setTimeout(check, 350);
  }

  // Offer only the offices of the chosen orderer.
  function filterOffices() {
    var orderer = form.querySelector("select[name=orderer]");
    var office = form.querySelector("select[name=office]");
    if (!orderer || !office) { return; }
    office.querySelectorAll("option[data-orderer]").forEach(function (option) {
      var other = orderer.value && option.dataset.orderer !== orderer.value;
      option.hidden = Boolean(other);
      option.disabled = Boolean(other);
      if (other && option.selected) { office.value = ""; }
    });
  }
  form.addEventListener("change", function (event) {
    if (event.target.name === "orderer") { filterOffices(); }
  });
  filterOffices();

  // Menu 5: show only the fields of the chosen change.
  function showChangeFields() {
    var chosen = form.querySelector("input[name=change_kind]:checked");
    form.querySelectorAll("[data-for-kinds]").forEach(function (section) {
      section.hidden = !chosen || section.dataset.forKinds.split(" ").indexOf(chosen.value) < 0;
    });
  }
  form.addEventListener("change", function (event) {
    if (event.target.name === "change_kind") { showChangeFields(); }
  });
  showChangeFields();

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  showTerms();
  check();
}());
