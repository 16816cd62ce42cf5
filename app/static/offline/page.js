/*
 * The consulting teacher's pages without a connection (the caseload and its cases).
 *
 * - Registers the district's service worker (worker.js) and, on the caseload page, tells it
 *   which pages it may keep: the caseload and the cases listed on it.
 * - Gives each visit form a fresh idempotency key on every load (a kept page would otherwise
 *   repeat one) and, when it is sent, the labels the queue shows.
 * - Shows the queue of visits waiting on this device, and sends it on every load and when the
 *   connection returns ("online"): one visit at a time, each with a CSRF token read from the
 *   case page just before (the token the visit was queued with may belong to an earlier
 *   session). A visit the server refuses (the case closed meanwhile, or any 4xx) stays in
 *   the queue as not accepted, with the server's words, and is not sent again; a network
 *   error or a 5xx leaves it waiting for the next try.
 *
 * The owner is checked first: when someone else signs in on this device, what the previous
 * person kept is dropped before anything is shown.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !("serviceWorker" in navigator) || !window.indexedDB) return;
  var workerUrl = new URL(script.dataset.worker, location.href);
  var scopePath = workerUrl.pathname.replace(/[^/]*$/, "");
  var owner = script.dataset.owner;
  var store = new window.ParleyOfflineStore(scopePath);
  var sending = false;
  var RETRY_EVERY_MS = 20000;

  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); });
    return [h.slice(0, 4), h.slice(4, 6), h.slice(6, 8), h.slice(8, 10), h.slice(10)]
      .map(function (p) { return p.join(""); }).join("-");
  }

  function hidden(form, name, value) {
    var input = form.querySelector('input[name="' + name + '"]');
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      form.appendChild(input);
    }
    input.value = value;
  }

  function prepareVisitForms() {
    document.querySelectorAll("form[data-offline-visit]").forEach(function (form) {
      hidden(form, "idempotency_key", newKey());
      form.addEventListener("submit", function () {
        var type = form.querySelector('select[name="visit_type"]');
        var heading = document.querySelector("h1");
        hidden(form, "offline_case_label", heading ? heading.textContent.trim() : "");
        hidden(form, "offline_type_label",
          type && type.selectedIndex >= 0 ? type.options[type.selectedIndex].text : "");
      });
    });
  }

  /* The caseload page: itself and each case listed on it, plus the files the pages use. */
  function caseloadMessage() {
    var caseload = document.querySelector("[data-offline-caseload]");
    if (!caseload) return null;
    var pages = [location.pathname];
    caseload.querySelectorAll("a[data-offline-case]").forEach(function (a) {
      pages.push(new URL(a.href, location.href).pathname);
    });
    var assets = [];
    document.querySelectorAll('link[rel="stylesheet"], link[rel="icon"], script[src], img[src]')
      .forEach(function (el) { assets.push(el.href || el.src); });
    return { type: "caseload", pages: pages, assets: assets };
  }

  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }

  async function render() {
    var section = document.querySelector("[data-offline-queue]");
    if (!section) return;
    var items = await store.visits();
    var waiting = items.filter(function (i) { return i.state === "waiting"; });
    var refused = items.filter(function (i) { return i.state === "conflict"; });
    var summary = section.querySelector("[data-offline-summary]");
    var parts = [];
    if (waiting.length) parts.push(plural(waiting.length, "visit", "visits") + " waiting to be sent");
    if (refused.length) parts.push(plural(refused.length, "visit", "visits") + " not accepted");
    var keptCopy = document.documentElement.hasAttribute("data-kept-copy");
    var offline = !navigator.onLine || keptCopy;
    var where = "";
    if (!navigator.onLine) where = "You are offline: this page is the copy kept on this device. ";
    else if (keptCopy) where = "The server could not be reached: this page is the copy kept on this device. ";
    summary.textContent = where + (parts.length ? parts.join("; ") + "." : "");
    var list = section.querySelector("[data-offline-items]");
    list.textContent = "";
    items.forEach(function (item) {
      var li = document.createElement("li");
      li.dataset.state = item.state;
      var what = document.createElement("strong");
      what.textContent = [item.caseLabel || item.casePath, item.typeLabel, item.visitedOn]
        .filter(Boolean).join(", ");
      li.appendChild(what);
      var status = document.createElement("span");
      status.textContent = item.state === "conflict"
        ? ": not accepted. " + item.message
        : ": waiting to be sent" + (item.message ? " (" + item.message + ")" : ".");
      li.appendChild(status);
      if (item.notes) {
        var notes = document.createElement("p");
        notes.className = "help";
        notes.textContent = "Notes: " + item.notes;
        li.appendChild(notes);
      }
      if (item.state === "conflict") {
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "link-button";
        remove.textContent = "Remove from this device";
        remove.addEventListener("click", function () {
          store.removeVisit(item.key).then(render).then(function () {
            if (!section.hidden) section.querySelector("h2").focus(); // the button is gone
          });
        });
        li.appendChild(document.createTextNode(" "));
        li.appendChild(remove);
      }
      list.appendChild(li);
    });
    section.hidden = !(items.length || offline);
  }

  function parse(html) { return new DOMParser().parseFromString(html, "text/html"); }

  function signedOut(response) {
    return /\/login$/.test(new URL(response.url, location.href).pathname);
  }

  /* What the server said when it refused the visit, in its own words. */
  function refusal(doc, status) {
    var seen = [];
    doc.querySelectorAll(
      "[data-testid=visit-refused] li, [data-testid=visit-form] .form-errors li, " +
      "[data-testid=visit-form] .errors li, main .form-errors li, main .errors li"
    ).forEach(function (li) {
      var text = li.textContent.trim();
      if (text && seen.indexOf(text) < 0) seen.push(text);
    });
    if (!seen.length) {
      var heading = doc.querySelector("main p, h1");
      seen.push(heading ? heading.textContent.trim() : "Refused (" + status + ").");
    }
    return seen.join(" ");
  }

  async function keepWaiting(item, message) {
    item.message = message;
    await store.putVisit(item);
  }

  /* "sent", "refused", or "stop" (no connection, no session, a server fault: try later). */
  async function send(item) {
    var token;
    try {
      var fresh = await fetch(item.casePath, { credentials: "same-origin", cache: "no-store" });
      if (signedOut(fresh)) {
        await keepWaiting(item, "sign in to send it");
        return "stop";
      }
      var input = parse(await fresh.text()).querySelector('input[name="csrf_token"]');
      token = input && input.value;
    } catch (offline) {
      return "stop";
    }
    var body = new URLSearchParams();
    item.fields.forEach(function (pair) {
      if (pair[0] !== "csrf_token") body.append(pair[0], pair[1]);
    });
    if (token) body.append("csrf_token", token);
    var response;
    try {
      response = await fetch(item.action, { method: "POST", body: body, credentials: "same-origin" });
    } catch (offline) {
      return "stop";
    }
    if (signedOut(response)) {
      await keepWaiting(item, "sign in to send it");
      return "stop";
    }
    if (response.ok) {
      await store.removeVisit(item.key);
      return "sent";
    }
    if (response.status >= 500) {
      await keepWaiting(item, "the server could not take it yet");
      return "stop";
    }
    item.state = "conflict";
    item.message = refusal(parse(await response.text()), response.status);
    await store.putVisit(item);
    return "refused";
  }

  async function sendQueue() {
    if (sending || !navigator.onLine) return;
    sending = true;
    var tried = false;
    try {
      var items = await store.visits();
      for (var i = 0; i < items.length; i++) {
        if (items[i].state !== "waiting") continue;
        tried = true;
        if ((await send(items[i])) === "stop") break;
        await render();
      }
    } finally {
      sending = false;
      if (tried) await render(); // an idle retry leaves the list (and the focus in it) alone
    }
  }

  async function start() {
    var previous = await store.get("owner");
    if (previous !== owner) {
      await store.forgetEverything();
      await store.set("owner", owner);
    }
    prepareVisitForms();
    await render();
    var registration = await navigator.serviceWorker.register(workerUrl.href, {
      scope: scopePath,
      updateViaCache: "none",
    });
    var message = caseloadMessage();
    if (message && navigator.onLine) {
      var ready = await navigator.serviceWorker.ready;
      (ready.active || registration.active).postMessage(message);
    }
    await sendQueue();
  }

  /* The "online" event says a network is there, not that the server answers (a school's
   * Wi-Fi without the internet, a server restarting): while visits wait, try again now and
   * then, and whenever the page is looked at again. */
  window.addEventListener("online", function () { sendQueue(); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") sendQueue();
  });
  setInterval(function () { sendQueue(); }, RETRY_EVERY_MS);
  window.addEventListener("offline", function () { render(); });
  start().catch(function (error) { console.error("offline visit log:", error); });
})();
