// proofqueue console: keeps the access token in this tab (sessionStorage) and has htmx send
// it as "Authorization: Bearer" on every request. No cookie is set or read. No inline code:
// the page's Content-Security-Policy allows scripts from this server only.
(function () {
  "use strict";
  var KEY = "proofqueue-token";

  function token() {
    try {
      return window.sessionStorage.getItem(KEY);
    } catch (e) {
      return null;
    }
  }

  function byId(id) {
    return document.getElementById(id);
  }

  function problem(text) {
    var box = byId("problem");
    if (!box) return;
    box.textContent = text;
    box.hidden = !text;
  }

  document.addEventListener("htmx:configRequest", function (evt) {
    var t = token();
    if (!t) {
      evt.preventDefault(); // not signed in: nothing is asked of the server
      return;
    }
    evt.detail.headers["Authorization"] = "Bearer " + t;
  });

  document.addEventListener("htmx:afterRequest", function (evt) {
    if (evt.detail.successful) problem("");
  });

  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    var said = "";
    try {
      said = JSON.parse(xhr.responseText).error || "";
    } catch (e) {
      said = xhr.statusText;
    }
    if (xhr.status === 401) {
      window.sessionStorage.removeItem(KEY);
      showLogin("The token was refused (" + said + "): sign in again.");
      return;
    }
    problem("The server answered " + xhr.status + ": " + said);
  });

  document.addEventListener("htmx:sendError", function () {
    problem("The server cannot be reached; retrying every few seconds.");
  });

  document.addEventListener("click", function (evt) {
    var target = evt.target;
    if (target instanceof Element && target.closest("[data-close]")) {
      var dialog = byId("dialog");
      if (dialog) dialog.textContent = "";
    }
  });

  function showLogin(message) {
    byId("app").hidden = true;
    byId("signout").hidden = true;
    byId("login").hidden = false;
    problem(message || "");
  }

  document.addEventListener("DOMContentLoaded", function () {
    byId("login-form").addEventListener("submit", function (evt) {
      evt.preventDefault();
      var value = byId("token").value.trim();
      if (!value) return;
      window.sessionStorage.setItem(KEY, value);
      window.location.reload();
    });
    byId("signout").addEventListener("click", function () {
      window.sessionStorage.removeItem(KEY);
      window.location.reload();
    });
    if (token()) {
      byId("app").hidden = false;
      byId("signout").hidden = false;
    } else {
      showLogin("");
    }
  });
})();
