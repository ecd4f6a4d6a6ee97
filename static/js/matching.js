// Field suggestion while an achievement or demand is written: asks /matching/suggest-field (debounced) and offers
// the likely fields under the field select, each with a one-click "use this field". The form works without it.
(function () {
  "use strict";

  var ENDPOINT = "/matching/suggest-field";
  var DELAY_MS = 600;
  var MAX_TEXT = 2000;
  var MIN_CHARS = 6;
  var MIN_ALTERNATIVE_CONFIDENCE = 0.05;  // the best field is always offered; others only when they are plausible
  var english = (document.documentElement.lang || "").toLowerCase().indexOf("en") === 0;
  var WORDS = english
    ? { suggested: "Suggested field:", use: "Use this field", chosen: "Field set to ", confidence: "confidence" }
    : { suggested: "建议领域：", use: "使用此领域", chosen: "已选择领域：", confidence: "可信度" };

  function value(form, name) {
    var input = form.querySelector("[name='" + name + "']");
    return input ? input.value : "";
  }

  function draft(form) {
    var text = [value(form, "summary"), value(form, "description"), value(form, "description_public")]
      .join("\n").trim();
    return { title: value(form, "title").trim(), text: text.slice(0, MAX_TEXT), keywords: value(form, "keywords").trim() };
  }

  function clear(node) {
    while (node.firstChild) { node.removeChild(node.firstChild); }
  }

  function choose(select, code, box) {
    select.value = code;
    select.dispatchEvent(new Event("change", { bubbles: true }));
    clear(box);
    var note = document.createElement("span");
    note.className = "text-success";
    var option = select.options[select.selectedIndex];
    note.textContent = WORDS.chosen + (option ? option.textContent.trim() : code);
    box.appendChild(note);
  }

  function show(box, select, suggestions) {
    clear(box);
    var offered = suggestions.filter(function (item, position) {
      return item.code !== select.value && select.querySelector("option[value='" + item.code + "']") &&
        (position === 0 || item.confidence >= MIN_ALTERNATIVE_CONFIDENCE);
    });
    if (!offered.length) { return; }
    var label = document.createElement("span");
    label.textContent = WORDS.suggested + " ";
    box.appendChild(label);
    offered.forEach(function (item) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-link btn-sm p-0 me-3 align-baseline field-suggestion-use";
      button.dataset.code = item.code;
      button.title = WORDS.use + " · " + WORDS.confidence + " " + Math.round(item.confidence * 100) + "%";
      button.textContent = item.path.join(" › ") + " (" + Math.round(item.confidence * 100) + "%)";
      button.setAttribute("aria-label", WORDS.use + ": " + item.path.join(" › "));
      button.addEventListener("click", function () { choose(select, item.code, box); });
      box.appendChild(button);
    });
  }

  function attach(form) {
    var box = form.querySelector("#field-suggestion");
    var select = form.querySelector("select[name='field']");
    if (!box || !select) { return; }
    box.setAttribute("aria-live", "polite");
    var timer = null;
    var lastQuery = "";
    var controller = null;

    function ask() {
      var input = draft(form);
      if ((input.title + input.text + input.keywords).length < MIN_CHARS) { clear(box); return; }
      var query = new URLSearchParams(input).toString();
      if (query === lastQuery) { return; }
      lastQuery = query;
      if (controller) { controller.abort(); }
      controller = typeof AbortController === "function" ? new AbortController() : null;
      fetch(ENDPOINT + "?" + query, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        signal: controller ? controller.signal : undefined
      }).then(function (response) {
        return response.ok ? response.json() : { suggestions: [] };
      }).then(function (body) {
        show(box, select, body.suggestions || []);
      }).catch(function () { /* a suggestion is optional: keep the form as it is */ });
    }

    function later() {
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(ask, DELAY_MS);
    }

    ["title", "summary", "description", "description_public", "keywords"].forEach(function (name) {
      var input = form.querySelector("[name='" + name + "']");
      if (input) { input.addEventListener("input", later); }
    });
    select.addEventListener("change", function () { lastQuery = ""; });
    if (!select.value) { later(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    ["achievement-form", "demand-form"].forEach(function (id) {
      var form = document.getElementById(id);
      if (form) { attach(form); }
    });
  });
})();
