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

// Live feeds (the console's activity):
//   data-sse-feed="URL"        listen to Server-Sent Events at URL; each
//                              event's HTML (rendered and escaped by the
//                              server) is put at the top of the descendant
//                              with data-sse-prepend="<event name>", which
//                              keeps at most data-sse-keep children; a
//                              child with data-sse-empty is removed then.
//                              An "end" event closes the feed.
(function () {
  "use strict";

  function feed(el) {
    if (!window.EventSource) return;
    var source = new EventSource(el.getAttribute("data-sse-feed"));
    var state = el.querySelector("[data-sse-state]");
    function say(text, cls) {
      if (!state) return;
      state.textContent = text;
      state.className = "badge " + cls;
    }
    el.querySelectorAll("[data-sse-prepend]").forEach(function (target) {
      var keep = parseInt(target.getAttribute("data-sse-keep") || "0", 10);
      source.addEventListener(target.getAttribute("data-sse-prepend"), function (ev) {
        var empty = target.querySelector("[data-sse-empty]");
        if (empty) empty.remove();
        target.insertAdjacentHTML("afterbegin", ev.data);
        while (keep > 0 && target.children.length > keep) target.lastElementChild.remove();
      });
    });
    source.addEventListener("open", function () { say("Live", "ok"); });
    source.addEventListener("error", function () { say("Reconnecting…", "warn"); });
    source.addEventListener("end", function () {
      source.close();
      say("Stopped: reload the page", "muted");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-sse-feed]").forEach(feed);
  });
})();
