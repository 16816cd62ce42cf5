/*
 * What the device keeps for the visit log without a connection, shared by the pages
 * (page.js) and the service worker (worker.js): one IndexedDB database per district,
 * named for the district's path, with
 *   visits: the visits waiting to be sent, by their idempotency key;
 *   meta:   who the kept data belongs to ("owner") and which pages may be kept ("pages").
 * The caches follow the same naming, so signing out, or another person signing in, empties
 * exactly one district's data.
 */
(function (global) {
  "use strict";

  function names(scopePath) {
    return {
      db: "parley-offline:" + scopePath,
      pages: "parley-pages:" + scopePath,
      assets: "parley-assets:" + scopePath,
    };
  }

  function open(scopePath) {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(names(scopePath).db, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore("visits", { keyPath: "key" });
        request.result.createObjectStore("meta");
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  /* One transaction on one store; resolves with what `work` returned (a request's result
   * once the transaction has completed, so a write is on disk when the promise settles). */
  async function run(scopePath, storeName, mode, work) {
    var db = await open(scopePath);
    try {
      return await new Promise(function (resolve, reject) {
        var tx = db.transaction(storeName, mode);
        var request = work(tx.objectStore(storeName));
        tx.oncomplete = function () { resolve(request ? request.result : undefined); };
        tx.onerror = tx.onabort = function () { reject(tx.error); };
      });
    } finally {
      db.close();
    }
  }

  function Store(scopePath) {
    this.scopePath = scopePath;
    this.names = names(scopePath);
  }

  Store.prototype.visits = function () {
    return run(this.scopePath, "visits", "readonly", function (s) { return s.getAll(); })
      .then(function (items) {
        return items.sort(function (a, b) { return a.queuedAt < b.queuedAt ? -1 : 1; });
      });
  };
  Store.prototype.putVisit = function (item) {
    return run(this.scopePath, "visits", "readwrite", function (s) { return s.put(item); });
  };
  Store.prototype.removeVisit = function (key) {
    return run(this.scopePath, "visits", "readwrite", function (s) { return s.delete(key); });
  };
  Store.prototype.get = function (name) {
    return run(this.scopePath, "meta", "readonly", function (s) { return s.get(name); });
  };
  Store.prototype.set = function (name, value) {
    return run(this.scopePath, "meta", "readwrite", function (s) { return s.put(value, name); });
  };

  /* Everything this district kept on the device: pages, the queue, who it belonged to. */
  Store.prototype.forgetEverything = async function () {
    await caches.delete(this.names.pages);
    await caches.delete(this.names.assets);
    await run(this.scopePath, "visits", "readwrite", function (s) { return s.clear(); });
    await run(this.scopePath, "meta", "readwrite", function (s) { return s.clear(); });
  };

  /* The kept pages only (they can be fetched again); the queue stays for its owner. */
  Store.prototype.forgetPages = async function () {
    await caches.delete(this.names.pages);
    await this.set("pages", []);
  };

  global.ParleyOfflineStore = Store;
})(self);
