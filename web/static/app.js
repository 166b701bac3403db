// Doorman's progressive enhancements. Every page works without this file;
// it only adds to pages that ask for it with data- attributes:
//   data-sse="URL"            listen to Server-Sent Events at URL; each event
//                             replaces the inner HTML of the descendant with
//                             data-sse-swap="<event name>" (HTML rendered and
//                             escaped by the server).
//   data-confirm="question"   on a form: ask before sending it.
(function () {
  "use strict";

  function listen(el) {
    if (!window.EventSource) return;
    var source = new EventSource(el.getAttribute("data-sse"));
    el.querySelectorAll("[data-sse-swap]").forEach(function (target) {
      source.addEventListener(target.getAttribute("data-sse-swap"), function (ev) {
        target.innerHTML = ev.data;
      });
    });
    var state = el.querySelector("[data-sse-state]");
    if (state) {
      source.addEventListener("open", function () { state.textContent = "Live"; });
      source.addEventListener("error", function () { state.textContent = "Reconnecting…"; });
    }
  }

  function confirmForms() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        if (!window.confirm(form.getAttribute("data-confirm"))) ev.preventDefault();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-sse]").forEach(listen);
    confirmForms();
  });
})();
