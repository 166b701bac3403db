// The courier's camera scanner. The door page works without it (tracking
// numbers are typed or ticked); where the browser offers BarcodeDetector,
// this shows a button that reads parcel barcodes with the camera and adds
// each number read to the tracking numbers field. It also counts down an
// offline door code's seconds and hides the code once the door would
// refuse it.
(function () {
  "use strict";

  function start(box) {
    var input = document.getElementById("tracking");
    var video = document.getElementById("scan-video");
    var startBtn = document.getElementById("scan-start");
    var stopBtn = document.getElementById("scan-stop");
    var status = document.getElementById("scan-status");
    var stream = null, timer = null, detector = null;

    function stop() {
      if (timer) { clearTimeout(timer); timer = null; }
      if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
      video.hidden = true; stopBtn.hidden = true; startBtn.hidden = false;
    }

    function add(value) {
      value = String(value || "").trim();
      if (!value || /\s/.test(value)) return false;
      var have = input.value.split(/[\s,;]+/).filter(Boolean);
      if (have.indexOf(value) >= 0) return false;
      have.push(value);
      input.value = have.join(" ");
      return true;
    }

    function tick() {
      detector.detect(video).then(function (codes) {
        codes.forEach(function (c) {
          if (add(c.rawValue)) status.textContent = "Added " + c.rawValue + ".";
        });
      }).catch(function () {}).then(function () {
        if (stream) timer = setTimeout(tick, 250);
      });
    }

    startBtn.addEventListener("click", function () {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        status.textContent = "This browser cannot use the camera here. Type the numbers instead.";
        return;
      }
      try {
        detector = new window.BarcodeDetector();
      } catch (e) {
        status.textContent = "This browser cannot read barcodes. Type the numbers instead.";
        return;
      }
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }).then(function (s) {
        stream = s;
        video.srcObject = s;
        video.hidden = false; stopBtn.hidden = false; startBtn.hidden = true;
        status.textContent = "Point the camera at the parcel's barcode.";
        return video.play();
      }).then(tick).catch(function () {
        stop();
        status.textContent = "The camera could not be used. Type the numbers instead.";
      });
    });
    stopBtn.addEventListener("click", function () { stop(); status.textContent = "Scanning stopped."; });
    window.addEventListener("pagehide", stop);
    box.hidden = false;
  }

  // countdown shows how long the offline code has left and hides it
  // when the door would no longer take it.
  function countdown(box) {
    var left = parseInt(box.getAttribute("data-seconds"), 10) || 0;
    var end = Date.now() + left * 1000;
    var secs = document.getElementById("offline-seconds");
    var qr = document.getElementById("offline-qr");
    var expired = document.getElementById("offline-expired");
    function tick() {
      var s = Math.max(0, Math.ceil((end - Date.now()) / 1000));
      secs.textContent = String(s);
      if (s > 0) { setTimeout(tick, 250); return; }
      qr.hidden = true;
      expired.hidden = false;
    }
    tick();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("scanner");
    if (box && "BarcodeDetector" in window) start(box);
    var code = document.getElementById("offline-code");
    if (code) countdown(code);
  });
})();
