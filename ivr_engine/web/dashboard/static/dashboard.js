// ivr-engine dashboard: the calls list refreshes itself; period pickers submit on change.
(function () {
  "use strict";
  function refreshCalls(body) {
    var url = body.getAttribute("data-refresh");
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) { if (html !== null) { body.innerHTML = html; } })
      .catch(function () { /* the next round tries again */ });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var body = document.getElementById("call-rows");
    if (body) {
      setInterval(function () { refreshCalls(body); }, 5000);
    }
    document.querySelectorAll("select.autosubmit").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  });
})();
