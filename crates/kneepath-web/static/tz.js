// kneepath: put the browser's time zone into the sign-up form, so that the
// person's "today" (exercises, check-ins, charts) is their own calendar day.
// Without this script the account starts with the server's zone and can be
// changed on the account page.
(function () {
  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (e) {
    return;
  }
  var fields = document.querySelectorAll("input[data-browser-time-zone]");
  for (var i = 0; i < fields.length; i++) {
    fields[i].value = zone;
  }
})();
