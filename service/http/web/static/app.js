// Progressive enhancement: poll a job's progress, copy the ClaimReview and MediaReview snippets.
(function () {
  "use strict";
  var box = document.getElementById("progress");
  if (box && box.dataset.statusUrl) {
    var bar = document.getElementById("job-progress");
    var stage = document.getElementById("job-stage");
    var error = document.getElementById("job-error");
    var poll = function () {
      fetch(box.dataset.statusUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); })
        .then(function (s) {
          if (s.status === "done") { window.location.replace(box.dataset.doneUrl); return; }
          if (s.status === "failed") {
            if (bar) { bar.hidden = true; }
            if (stage) { stage.hidden = true; }
            error.textContent = s.error || "The job failed.";
            error.hidden = false;
            window.location.replace(box.dataset.doneUrl);  // the failed page says what to do next
            return;
          }
          if (bar) { bar.value = s.progress; bar.textContent = Math.round(s.progress * 100) + "%"; }
          if (stage) { stage.textContent = s.stage; }
          window.setTimeout(poll, 700);
        })
        .catch(function () { window.setTimeout(poll, 2000); });
    };
    if (bar) { poll(); }
  }
  var copies = document.querySelectorAll("button.copy");
  Array.prototype.forEach.call(copies, function (copy) {
    copy.addEventListener("click", function () {
      var text = document.getElementById(copy.dataset.target);
      var status = document.getElementById("copy-status");
      var done = function () { status.textContent = "Copied."; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text.value).then(done, function () { text.select(); });
      } else {
        text.select();
        try { document.execCommand("copy"); done(); } catch (e) { status.textContent = "Select and copy the text."; }
      }
    });
  });
})();
