/* The respondent pages' only script. Every page works without it; with it:
 *
 * - a form sent once turns its submit button off, so a double tap sends once;
 * - the ballot entry page (/b/) takes the code from the address's fragment
 *   (/b/#<code>, what a slip's QR code holds), removes it from the address bar
 *   and posts it in the form's body: the fragment never reaches a server, so
 *   the code is in no request line, referrer or log;
 * - a page opened at an address that holds a ballot code (an old slip's
 *   /b/<code>/, marked data-replace) puts the entry page's address (data-entry)
 *   in its place in the address bar and the history.
 */
(function () {
  "use strict";

  var main = document.querySelector("main");
  var canReplace = !!(window.history && history.replaceState);
  if (main && main.hasAttribute("data-replace") && canReplace) {
    history.replaceState(null, "", main.getAttribute("data-entry"));
  }

  var forms = document.querySelectorAll("form[data-once]");
  Array.prototype.forEach.call(forms, function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (button) {
        button.disabled = true;
      }
    });
  });

  // A ballot code: 16 letters and digits, perhaps grouped with hyphens. Other
  // fragments (a link to a question, #q12) are left alone.
  function ballotCode() {
    var code;
    try {
      code = decodeURIComponent(location.hash.slice(1));
    } catch (malformed) {
      return "";
    }
    return /^[0-9A-Za-z]{16}$/.test(code.replace(/[-\s]/g, "")) ? code : "";
  }

  function openBallot() {
    var code = ballotCode();
    if (!code) {
      return;
    }
    var entry = document.getElementById("ballot-entry");
    if (!entry) {
      // Another page (say "already used" at /b/) and a new slip's code in the
      // fragment: load the entry page afresh, the code still only in the
      // fragment ("?" makes it a new address, so the browser loads it).
      var address = main && main.getAttribute("data-entry");
      if (address) {
        location.replace(address + "?" + location.hash);
      }
      return;
    }
    if (canReplace) {
      history.replaceState(null, "", location.pathname);
    }
    entry.elements.namedItem("ballot").value = code;
    if (entry.requestSubmit) {
      entry.requestSubmit();
    } else {
      entry.submit();
    }
  }

  openBallot();
  window.addEventListener("hashchange", openBallot);
})();
