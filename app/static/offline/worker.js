/*
 * The district's service worker (served at /t/<district>/offline-worker.js, so its scope is
 * that district's pages). It does two things, and nothing else:
 *
 * 1. Keeps the consulting teacher's caseload readable without a connection. The caseload
 *    page (the CT's home) names the pages that may be kept: itself and the page of each case
 *    on the caseload. Only those are kept, refreshed whenever they are opened online; any
 *    other page goes to the network as if there were no worker, and offline answers with a
 *    short page saying it is not kept on this device.
 * 2. Catches the visit form when it cannot be sent. A visit form posted while the server
 *    cannot be reached is put in the queue (IndexedDB, by its idempotency key) and the CT is
 *    taken back to the case page, where the queue shows it. The pages send the queue when
 *    the connection returns (page.js); the worker never sends it itself.
 *
 * Everything is dropped at sign-out (the server's Clear-Site-Data header), and the kept
 * pages whenever the sign-in page is seen instead of a kept page (the session ended).
 */
"use strict";

importScripts("/static/offline/store.js");

var SCOPE = new URL(self.registration.scope).pathname; // "/t/<district>/"
var store = new self.ParleyOfflineStore(SCOPE);
var VISIT_POST = new RegExp("^" + SCOPE.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "cases/(\\d+)/visits$");

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "caseload") {
    event.waitUntil(keepCaseload(data.pages || [], data.assets || []));
  }
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST") {
    if (request.mode === "navigate" && VISIT_POST.test(url.pathname)) {
      event.respondWith(sendOrQueue(request, url));
    }
    return; // every other post, and the pages' own sending of the queue, goes as it is
  }
  if (request.method !== "GET") return;
  if (request.mode === "navigate") {
    event.respondWith(page(request, url));
  } else {
    event.respondWith(asset(request));
  }
});

function signInPage(response) {
  return /\/login$/.test(new URL(response.url || "/", self.location.origin).pathname);
}

/* Network first; a kept page is refreshed on the way, and answers when the network fails. */
async function page(request, url) {
  var allowed = (await store.get("pages")) || [];
  var keep = allowed.indexOf(url.pathname) >= 0;
  var response;
  try {
    response = await fetch(request);
  } catch (offline) {
    var cache = await caches.open(store.names.pages);
    var kept = keep && (await cache.match(url.pathname, { ignoreVary: true, ignoreSearch: true }));
    return kept ? asKeptCopy(kept) : notKept();
  }
  if (signInPage(response)) {
    await store.forgetPages();
  } else if (keep && response.ok && !response.redirected) {
    await putPage(url.pathname, response.clone());
  }
  return response;
}

/* A page as kept: without the messages of the moment ("Visit saved.") it was drawn with. */
async function putPage(path, response) {
  var html = (await response.text()).replace(/<div class="flashes"[\s\S]*?<\/div>/, "");
  var cache = await caches.open(store.names.pages);
  await cache.put(path, new Response(html, { status: 200, headers: response.headers }));
}

/* The kept copy, marked as such: the page says it is the copy whatever the browser believes
 * of the connection (a school's Wi-Fi without the internet still counts as online). */
async function asKeptCopy(response) {
  var html = (await response.text()).replace(/<html\b/, '<html data-kept-copy=""');
  return new Response(html, { status: 200, headers: response.headers });
}

async function asset(request) {
  try {
    return await fetch(request);
  } catch (offline) {
    var cache = await caches.open(store.names.assets);
    var kept = await cache.match(request, { ignoreVary: true, ignoreSearch: true });
    return kept || Response.error();
  }
}

function notKept() {
  var html =
    '<!doctype html><html lang="en"><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    "<title>Not kept on this device</title><main><h1>You are offline</h1>" +
    "<p>This page is not kept on this device. Your caseload and its cases are: " +
    '<a href="' + SCOPE + '">open your caseload</a>.</p></main>';
  return new Response(html, {
    status: 503,
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    },
  });
}

/* The caseload page named what may be kept: keep exactly that, fetch it now, drop the rest. */
async function keepCaseload(pages, assets) {
  var inScope = function (path) { return typeof path === "string" && path.indexOf(SCOPE) === 0; };
  pages = pages.filter(inScope);
  await store.set("pages", pages);
  var cache = await caches.open(store.names.pages);
  var kept = await cache.keys();
  await Promise.all(kept.map(function (request) {
    var path = new URL(request.url).pathname;
    return pages.indexOf(path) >= 0 ? null : cache.delete(request);
  }));
  await Promise.all(pages.map(async function (path) {
    try {
      var response = await fetch(path, { credentials: "same-origin" });
      if (signInPage(response)) return store.forgetPages();
      if (response.ok && !response.redirected) await putPage(path, response);
    } catch (offline) { /* kept as it was; refreshed at the next visit online */ }
  }));
  var assetCache = await caches.open(store.names.assets);
  await Promise.all(assets.filter(function (a) {
    return new URL(a, self.location.origin).origin === self.location.origin;
  }).map(function (a) {
    return assetCache.add(a).catch(function () { /* refreshed at the next visit online */ });
  }));
}

/* Send the visit form; when the server cannot be reached, queue it and show the case. */
async function sendOrQueue(request, url) {
  var copy = request.clone();
  try {
    return await fetch(request);
  } catch (offline) {
    var form = await copy.formData();
    var fields = [];
    var labels = {};
    form.forEach(function (value, name) {
      if (typeof value !== "string") return;
      if (name.indexOf("offline_") === 0) labels[name.slice(8)] = value;
      else fields.push([name, value]);
    });
    var key = form.get("idempotency_key");
    if (!key) {
      key = self.crypto.randomUUID();
      fields.push(["idempotency_key", key]);
    }
    var casePath = url.pathname.replace(/\/visits$/, "");
    await store.putVisit({
      key: key,
      action: url.pathname,
      casePath: casePath,
      fields: fields,
      caseLabel: labels.case_label || "",
      typeLabel: labels.type_label || form.get("visit_type") || "",
      visitedOn: form.get("visited_on") || "",
      notes: form.get("notes") || "",
      queuedAt: new Date().toISOString(),
      state: "waiting",
      message: "",
    });
    return Response.redirect(casePath + "#offline-queue-heading", 303);
  }
}
