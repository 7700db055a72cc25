// The evidence pack (service/web/templates/_evidence_pack.html): the un-mirror toggle, and two players that
// start together at the matched seconds and stay together (the archive follows the checked video).
(function () {
  "use strict";
  document.querySelectorAll(".pack").forEach(function (pack) {
    var toggle = pack.querySelector(".unmirror-toggle");
    if (toggle) {
      toggle.addEventListener("click", function () {
        var back = toggle.getAttribute("aria-pressed") !== "true";
        toggle.setAttribute("aria-pressed", back ? "true" : "false");
        toggle.textContent = back ? "Show as uploaded (mirrored)" : "Flip back to compare";
        pack.querySelectorAll("img.frame.checked").forEach(function (img) {
          img.src = back ? img.dataset.flippedBack : img.dataset.asUploaded;
          img.parentElement.href = img.src;
        });
        pack.querySelectorAll(".flip-state").forEach(function (s) {
          s.textContent = back ? " (flipped back)" : " (as uploaded, mirrored)";
        });
      });
    }
    var checked = pack.querySelector("video.player.checked");
    var archive = pack.querySelector("video.player.archive");
    var button = pack.querySelector(".sync-play");
    var status = pack.querySelector(".player-status");
    if (!checked || !archive || !button) { return; }
    var q0 = parseFloat(checked.dataset.start), a0 = parseFloat(archive.dataset.start);
    var speed = parseFloat(archive.dataset.speed) || 1;
    var follow = function () {
      var target = a0 + (checked.currentTime - q0) * speed;
      if (Math.abs(archive.currentTime - target) > 0.3) { archive.currentTime = Math.max(0, target); }
    };
    checked.addEventListener("seeked", follow);
    checked.addEventListener("play", function () { follow(); archive.play().catch(function () {}); });
    checked.addEventListener("pause", function () { archive.pause(); });
    var failed = function () { status.textContent = "This browser cannot play one of the videos; the frames above still show the match."; };
    checked.addEventListener("error", failed);
    archive.addEventListener("error", failed);
    button.addEventListener("click", function () {
      checked.currentTime = q0;
      archive.currentTime = a0;
      checked.play().catch(function () { status.textContent = "Press play on the checked video."; });
    });
  });
})();
