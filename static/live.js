// Live updates: the portal pushes changes to open pages over server-sent
// events, which the htmx SSE extension swaps in (sse-connect on <body>,
// sse-swap on the parts that change).
//
// Browsers allow six HTTP/1.1 connections per host, so a stream per tab
// would leave a seventh tab unable to load anything. Instead the tabs of
// a browser share one stream: one tab, the leader, holds the EventSource
// and relays every event to the others over a BroadcastChannel. This file
// gives the SSE extension an EventSource-shaped object (through
// htmx.createEventSource) that is fed either way.
//
// The leader is whoever holds a Web Lock (released when its page goes
// away, so the next tab takes over at once). Where Web Locks are missing
// (pages served over plain HTTP from a host other than localhost), tabs
// elect a leader by heartbeats on the channel instead.
(function () {
  "use strict";
  if (typeof htmx === "undefined" || typeof EventSource === "undefined") return;

  var NAMES = ["end", "sessions", "notice", "watch"];
  var LOCK = "portal-live";
  var id = Math.random().toString(36).slice(2) + "." + Date.now().toString(36);
  var channel = typeof BroadcastChannel === "function" ? new BroadcastChannel("portal-live") : null;
  var sources = []; // this page's shared sources (normally one)
  var base = "/events";
  var leader = false;
  var es = null; // the leader's EventSource
  var esURL = "";
  var retryDelay = 0;
  var watches = {}; // tab id -> users its page watches (leader only)
  var withLocks = false;
  // since is what this page has seen up to, in server milliseconds: when
  // it was rendered, then the id of each event heard. A new stream
  // catches up from it.
  var since = 0;
  var connectTimer = 0;

  // An EventSource as the SSE extension uses one.
  function SharedSource(url) {
    base = url.split("?")[0];
    this.url = url;
    this.readyState = 1;
    this.withCredentials = true;
    this.listeners = {};
    this.onopen = null;
    this.onerror = null;
    this.onmessage = null;
    sources.push(this);
    start();
  }
  SharedSource.prototype.addEventListener = function (type, fn) {
    (this.listeners[type] = this.listeners[type] || []).push(fn);
  };
  SharedSource.prototype.removeEventListener = function (type, fn) {
    var l = this.listeners[type] || [];
    var i = l.indexOf(fn);
    if (i >= 0) l.splice(i, 1);
  };
  SharedSource.prototype.close = function () {
    this.readyState = 2;
    var i = sources.indexOf(this);
    if (i >= 0) sources.splice(i, 1);
  };

  htmx.createEventSource = function (url) {
    return new SharedSource(url);
  };

  // deliver hands an event to this page: "end" leaves for the sign-in
  // page it names; the rest go to the extension's listeners.
  function seen(id) {
    var n = parseInt(id, 10);
    if (n > since) since = n;
  }

  function deliver(type, data) {
    if (type === "end") {
      if (typeof data === "string" && /^\/login(\?|$)/.test(data)) location.assign(data);
      return;
    }
    sources.slice().forEach(function (s) {
      (s.listeners[type] || []).slice().forEach(function (fn) {
        fn({ type: type, data: data });
      });
    });
  }

  function post(msg) {
    if (channel) channel.postMessage(msg);
  }

  // myWatch is the users this page shows live (the partner console's user
  // page), from data-live-watch attributes.
  function myWatch() {
    var out = [];
    document.querySelectorAll("[data-live-watch]").forEach(function (el) {
      var u = el.getAttribute("data-live-watch");
      if (u && out.indexOf(u) < 0) out.push(u);
    });
    return out;
  }

  // watchURL is the stream for every watched user of every tab.
  function watchURL() {
    var all = [];
    Object.keys(watches).forEach(function (tab) {
      watches[tab].forEach(function (u) {
        if (all.indexOf(u) < 0) all.push(u);
      });
    });
    all.sort();
    return all.length ? base + "?watch=" + all.slice(0, 10).join(",") : base;
  }

  // connect (re)opens the leader's stream if what it should watch changed.
  function connect() {
    if (!leader) return;
    var url = watchURL();
    if (es && esURL === url && es.readyState !== 2) return;
    if (es) es.close();
    esURL = url;
    es = new EventSource(url + (url.indexOf("?") < 0 ? "?" : "&") + "since=" + since, { withCredentials: true });
    es.onopen = function () {
      retryDelay = 0;
      sources.forEach(function (s) {
        if (s.onopen) s.onopen({ type: "open" });
      });
    };
    es.onerror = function () {
      // The browser reconnects by itself after a dropped connection (at
      // the server's retry interval). After a refusal it gives up; try
      // again later, backing off, with jitter.
      if (es.readyState !== 2) return;
      retryDelay = Math.min(Math.max(retryDelay * 2, 2000), 60000);
      var failed = es;
      setTimeout(function () {
        if (es === failed) {
          es = null;
          connect();
        }
      }, retryDelay + Math.random() * retryDelay);
    };
    NAMES.forEach(function (type) {
      es.addEventListener(type, function (e) {
        seen(e.lastEventId);
        post({ t: "event", type: type, data: e.data, id: e.lastEventId });
        deliver(type, e.data);
      });
    });
  }

  // soon connects once the other tabs have said what they watch, so a new
  // leader does not open one stream and then another.
  function soon() {
    clearTimeout(connectTimer);
    connectTimer = setTimeout(connect, 100);
  }

  function becomeLeader() {
    if (leader) return;
    leader = true;
    watches = {};
    watches[id] = myWatch();
    post({ t: "leader", id: id });
    soon();
  }

  function resign() {
    leader = false;
    if (es) es.close();
    es = null;
  }

  function onMessage(m) {
    if (!m || typeof m !== "object") return;
    switch (m.t) {
      case "event":
        if (!leader) {
          seen(m.id);
          deliver(m.type, m.data);
        }
        break;
      case "leader":
        // A new leader wants to know what every page watches.
        if (m.id !== id) post({ t: "watch", id: id, watch: myWatch() });
        heard(m);
        break;
      case "watch":
        if (leader) {
          watches[m.id] = Array.isArray(m.watch) ? m.watch.slice(0, 10) : [];
          soon();
        }
        break;
      case "gone":
        if (leader) {
          delete watches[m.id];
          soon();
        }
        heard(m);
        break;
      case "alive":
        heard(m);
        break;
      case "claim":
        claimHeard(m);
        break;
    }
  }

  // With Web Locks: the tab holding the lock leads until its page goes.
  function startWithLocks() {
    navigator.locks.request(LOCK, function () {
      becomeLeader();
      return new Promise(function () {}); // held until the page goes away
    });
    post({ t: "watch", id: id, watch: myWatch() });
  }

  // Without Web Locks: the leader says it is alive every second; a tab
  // that hears no leader for a while claims the lead, and of two
  // claimants the smaller id wins.
  var lastLeader = 0;
  var claiming = false;
  var beaten = false;
  function heard(m) {
    if (m.t === "gone") {
      if (m.leader) lastLeader = 0;
      return;
    }
    if (m.t === "alive" || m.t === "leader") {
      lastLeader = Date.now();
      if (!withLocks && leader && m.id < id) resign(); // two leaders: the smaller id stays
    }
  }
  function claimHeard(m) {
    if (claiming && m.id < id) beaten = true;
    if (leader) post({ t: "alive", id: id });
  }
  function startWithHeartbeats() {
    setInterval(function () {
      if (leader) {
        post({ t: "alive", id: id });
      } else if (!claiming && Date.now() - lastLeader > 2500) {
        claim();
      }
    }, 1000);
    post({ t: "claim", id: id, probe: true });
    setTimeout(function () {
      if (!lastLeader) claim();
    }, 250 + Math.random() * 100);
  }
  function claim() {
    claiming = true;
    beaten = false;
    post({ t: "claim", id: id });
    setTimeout(function () {
      claiming = false;
      if (!beaten && Date.now() - lastLeader > 2500) becomeLeader();
      else post({ t: "watch", id: id, watch: myWatch() });
    }, 150 + Math.random() * 50);
  }

  var started = false;
  function start() {
    if (started) return;
    started = true;
    seen(document.body.getAttribute("data-live-since"));
    if (!channel) {
      becomeLeader(); // no way to share: this page streams alone
      return;
    }
    channel.onmessage = function (e) {
      onMessage(e.data);
    };
    window.addEventListener("pagehide", function () {
      post({ t: "gone", id: id, leader: leader });
      resign();
    });
    withLocks = !!(navigator.locks && typeof navigator.locks.request === "function");
    if (withLocks) startWithLocks();
    else startWithHeartbeats();
  }
})();
