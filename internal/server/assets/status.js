// feedmill's status page, made livelier: the sources table sorts and
// filters in place and refreshes itself from status.json every 30 seconds.
// The page works without this script: its header and filter links ask the
// server for the same views (?sort=, ?order=, ?status=), and the rows below
// are built to look exactly like the server's (templates/index.html).
(function () {
  "use strict";

  var table = document.getElementById("sources-table");
  if (!table) {
    return;
  }
  var tbody = document.getElementById("rows");
  var empty = document.getElementById("no-rows");
  var filter = document.getElementById("filter");
  var refreshed = document.getElementById("refreshed");
  var reload = document.getElementById("reload");
  var statusURL = new URL(table.getAttribute("data-status-url"), document.baseURI).href;
  var headers = Array.prototype.slice.call(table.querySelectorAll("thead th[data-key]"));
  var pageURL = new URL(reload.href);
  pageURL.search = "";
  pageURL.hash = "";

  var REFRESH_MS = 30000;
  var MAX_ERROR = 160;
  // The same orders and words as status.go.
  var RANK = { failing: 0, gone: 1, moved: 2, discovered: 3, never: 4, ok: 5 };
  var LABELS = [["ok", "ok"], ["failing", "failing"], ["gone", "gone"], ["moved", "moved"],
    ["discovered", "discovered"], ["never", "never fetched"]];

  // firstDesc: whether a first click on a column sorts it descending.
  var firstDesc = {};
  headers.forEach(function (th) {
    firstDesc[th.dataset.key] = th.dataset.first === "desc";
  });

  // complete is false while the table holds only the rows of a filter the
  // server applied: showing another status needs all rows first.
  var complete = table.dataset.complete === "true";
  // paged is true when the table shows one page of many (status.go:
  // statusPageSize): the server sorts, filters and pages, so the header,
  // filter and page links are followed as they are, and a refresh reads
  // status.json for the same page (data-status-url says which).
  var paged = table.dataset.paged === "true";
  var view = parseView(new URLSearchParams(location.search));
  var lastRefresh = Date.now();
  var inflight = null;
  var note = document.createElement("span");
  note.className = "err";
  refreshed.parentNode.appendChild(note);

  // parseView reads status, sort and order as the server does: unknown
  // values mean all sources, in the config's order.
  function parseView(q) {
    var v = { status: "", sort: "", desc: false };
    if (Object.prototype.hasOwnProperty.call(RANK, q.get("status"))) {
      v.status = q.get("status");
    }
    var key = q.get("sort");
    if (Object.prototype.hasOwnProperty.call(firstDesc, key)) {
      v.sort = key;
      v.desc = firstDesc[key];
      if (q.get("order") === "asc") {
        v.desc = false;
      } else if (q.get("order") === "desc") {
        v.desc = true;
      }
    }
    return v;
  }

  // query writes a view as the server's links do (keys in order).
  function query(v) {
    var p = [];
    if (v.sort) {
      p.push("order=" + (v.desc ? "desc" : "asc"), "sort=" + encodeURIComponent(v.sort));
    }
    if (v.status) {
      p.push("status=" + encodeURIComponent(v.status));
    }
    return p.length ? "?" + p.join("&") : "";
  }

  function link(v) {
    var u = new URL(pageURL.href);
    u.search = query(v);
    u.hash = "sources";
    return u.href;
  }

  function sortKey(tr, key) {
    var d = tr.dataset;
    switch (key) {
      case "name": return d.name.toLowerCase();
      case "status": return Number(d.rank);
      case "last_success": return d.lastSuccess ? Number(d.lastSuccess) : 0; // never: stalest
      case "failures": return Number(d.failures);
      case "next": return d.next ? Number(d.next) : Infinity; // not polled: last
      case "items": return Number(d.items);
      case "per_day": return Number(d.perDay);
    }
    return 0;
  }

  // compare orders rows as status.go's sortRows: by the key, ties and no
  // key in the config's order.
  function compare(a, b) {
    var c = 0;
    if (view.sort) {
      var x = sortKey(a, view.sort);
      var y = sortKey(b, view.sort);
      c = x < y ? -1 : x > y ? 1 : 0;
      if (view.desc) {
        c = -c;
      }
    }
    return c || Number(a.dataset.index) - Number(b.dataset.index);
  }

  // apply sorts and filters the rows in place and makes every link and
  // the address bar say so.
  function apply() {
    var rows = Array.prototype.slice.call(tbody.querySelectorAll("tr[data-index]"));
    rows.sort(compare);
    var shown = 0;
    rows.forEach(function (tr) {
      tr.hidden = view.status !== "" && tr.dataset.status !== view.status;
      if (!tr.hidden) {
        shown++;
      }
      tbody.insertBefore(tr, empty);
    });
    empty.hidden = shown > 0;
    headers.forEach(function (th) {
      var key = th.dataset.key;
      var desc = firstDesc[key];
      if (view.sort === key) {
        th.setAttribute("aria-sort", view.desc ? "descending" : "ascending");
        desc = !view.desc;
      } else {
        th.removeAttribute("aria-sort");
      }
      th.querySelector("a").href = link({ status: view.status, sort: key, desc: desc });
    });
    Array.prototype.forEach.call(filter.querySelectorAll("a"), function (a) {
      if (a.dataset.status === view.status) {
        a.setAttribute("aria-current", "true");
      } else {
        a.removeAttribute("aria-current");
      }
      a.href = link({ status: a.dataset.status, sort: view.sort, desc: view.desc });
    });
    reload.href = link(view);
    var here = new URL(location.href);
    here.search = query(view);
    history.replaceState(null, "", here.href);
  }

  // plainClick reports whether a click is one to handle in place, not one
  // that opens the link elsewhere (a new tab, a download).
  function plainClick(e) {
    return e.button === 0 && !e.metaKey && !e.ctrlKey && !e.shiftKey && !e.altKey;
  }

  table.querySelector("thead").addEventListener("click", function (e) {
    var a = e.target.closest("a");
    var th = a && a.closest("th[data-key]");
    if (paged || !th || !plainClick(e)) {
      return;
    }
    e.preventDefault();
    var key = th.dataset.key;
    if (view.sort === key) {
      view.desc = !view.desc;
    } else {
      view.sort = key;
      view.desc = firstDesc[key];
    }
    apply();
  });

  filter.addEventListener("click", function (e) {
    var a = e.target.closest("a[data-status]");
    if (paged || !a || !plainClick(e)) {
      return;
    }
    e.preventDefault();
    view.status = a.dataset.status;
    if (complete) {
      apply();
    } else {
      refresh();
    }
  });

  reload.addEventListener("click", function (e) {
    if (plainClick(e)) {
      e.preventDefault();
      refresh();
    }
  });

  // refresh replaces the rows and the filter's counts with the server's
  // current status.
  function refresh() {
    if (inflight) {
      return inflight;
    }
    inflight = fetch(statusURL, { headers: { Accept: "application/json" }, cache: "no-store", credentials: "same-origin" })
      .then(function (resp) {
        if (!resp.ok) {
          throw new Error(resp.status + " " + resp.statusText);
        }
        return resp.json();
      })
      .then(function (doc) {
        render(doc);
        note.textContent = "";
        if (!paged) {
          complete = true;
          apply();
        }
      })
      .catch(function (err) {
        note.textContent = " · could not refresh: " + err.message;
      })
      .then(function () {
        lastRefresh = Date.now();
        inflight = null;
      });
    return inflight;
  }

  setInterval(function () {
    if (!document.hidden) {
      refresh();
    }
  }, REFRESH_MS);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && Date.now() - lastRefresh >= REFRESH_MS) {
      refresh();
    }
  });

  function render(doc) {
    var now = Date.parse(doc.generated);
    Array.prototype.forEach.call(tbody.querySelectorAll("tr[data-index]"), function (tr) {
      tr.remove();
    });
    (doc.sources || []).forEach(function (s, i) {
      tbody.insertBefore(row(s, i, now), empty);
    });
    var counts = doc.counts || {};
    if (paged) {
      // The chips link to the server's views: only their counts change.
      Array.prototype.forEach.call(filter.querySelectorAll("a[data-status]"), function (a) {
        a.querySelector(".n").textContent = String(counts[a.dataset.status || "all"] || 0);
      });
      refreshed.setAttribute("datetime", iso(doc.generated));
      refreshed.textContent = iso(doc.generated).slice(11, 19) + " UTC";
      outage(doc.outage);
      return;
    }
    filter.replaceChildren();
    chip("", "all", counts.all || 0);
    LABELS.forEach(function (l) {
      var n = counts[l[0]] || 0;
      if (n > 0 || view.status === l[0]) {
        chip(l[0], l[1], n);
      }
    });
    refreshed.setAttribute("datetime", iso(doc.generated));
    refreshed.textContent = iso(doc.generated).slice(11, 19) + " UTC";
    outage(doc.outage);
  }

  // outage shows the banner for trouble every source shares, or hides it,
  // as index.html's "outage" template does.
  function outage(o) {
    var banner = document.getElementById("outage");
    if (!banner) {
      return;
    }
    banner.hidden = !o;
    banner.querySelector(".n").textContent = o ? " (" + o.sources + " sources)" : "";
    banner.querySelector(".words").textContent = o ? o.words : "";
  }

  function chip(status, label, n) {
    filter.append(el("li", null, el("a", { href: "#sources", "data-status": status }, label, el("span", { class: "n" }, String(n)))));
  }

  // el makes an element; children are elements or text (never markup).
  function el(tag, attrs) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        if (attrs[k] !== null && attrs[k] !== undefined) {
          e.setAttribute(k, attrs[k]);
        }
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      if (arguments[i] !== null && arguments[i] !== undefined && arguments[i] !== false) {
        e.append(arguments[i]);
      }
    }
    return e;
  }

  // safeURL passes http(s) URLs and neutralizes any other, as the
  // server's templates do (a feed chooses its own links).
  function safeURL(u) {
    try {
      var p = new URL(u, document.baseURI);
      if (p.protocol === "http:" || p.protocol === "https:") {
        return u;
      }
    } catch (e) {
      // not a URL at all
    }
    return "#ZgotmplZ";
  }

  function iso(t) {
    return new Date(t).toISOString().replace(/\.\d+Z$/, "Z");
  }

  function unix(t) {
    return t ? String(Math.floor(Date.parse(t) / 1000)) : "";
  }

  // human, when, ago and until say times as the server does (when.go):
  // relative within a week, by the day (in UTC) beyond.
  var relativeWithin = 7 * 24 * 3600 * 1000;
  var months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  function human(ms) {
    var s = Math.trunc(ms / 1000);
    if (s < 60) {
      return Math.max(0, s) + "s";
    }
    var m = Math.floor(s / 60);
    if (m < 60) {
      return m + "m";
    }
    var h = Math.floor(m / 60);
    if (h < 48) {
      return h + "h" + String(m % 60).padStart(2, "0") + "m";
    }
    return Math.floor(h / 24) + "d";
  }

  function when(now, t) {
    var at = Date.parse(t);
    var d = now - at;
    if (d >= relativeWithin || -d >= relativeWithin) {
      var day = new Date(at);
      return day.getUTCDate() + " " + months[day.getUTCMonth()] + " " + day.getUTCFullYear();
    }
    return d < 0 ? "in " + human(-d) : human(d) + " ago";
  }

  function ago(now, t) {
    return when(now, t);
  }

  function until(now, t) {
    return Date.parse(t) > now ? when(now, t) : "due now";
  }

  function time(t, text) {
    return el("time", { datetime: iso(t), title: iso(t) }, text);
  }

  function perDay(p) {
    if (p === null || p === undefined) {
      return "–";
    }
    if (p === 0) {
      return "0";
    }
    if (p < 0.05) {
      return "<0.1";
    }
    return p < 10 ? p.toFixed(1) : p.toFixed(0);
  }

  // shorten cuts an error for a table cell as status.go's shorten does.
  function shorten(s, max) {
    var runes = Array.from(s);
    if (runes.length <= max) {
      return s;
    }
    s = runes.slice(0, max - 1).join("");
    var sp = s.lastIndexOf(" ");
    if (sp > s.length * 3 / 4) {
      s = s.slice(0, sp);
    }
    return s.replace(/[ ,;:]+$/, "") + "…";
  }

  function row(s, index, now) {
    var tr = el("tr", {
      "data-status": s.status, "data-index": String(index), "data-name": s.name, "data-rank": String(RANK[s.status]),
      "data-last-success": unix(s.last_success), "data-failures": String(s.failures), "data-next": unix(s.next_fetch),
      "data-items": String(s.items), "data-per-day": String(s.items_per_day === undefined ? -1 : s.items_per_day)
    });

    var src = el("td", { class: "src" }, el("a", { class: "name", href: safeURL(s.page) }, s.name));
    if (s.site) {
      src.append(el("br"), el("a", { href: safeURL(s.site) }, s.title));
    } else if (s.title !== s.name) {
      src.append(el("br"), s.title);
    }
    src.append(el("br"), el("a", { class: "muted small", href: safeURL(s.url) }, el("code", null, s.url)));
    src.append(el("br"), el("span", { class: "muted small" }, "its feed: ",
      el("a", { href: safeURL(s.feeds.atom) }, "Atom"), " · ",
      el("a", { href: safeURL(s.feeds.rss) }, "RSS"), " · ",
      el("a", { href: safeURL(s.feeds.json) }, "JSON")));
    if (s.categories && s.categories.length) {
      src.append(el("br"), el("span", { class: "muted small" }, s.categories.join(", ")));
    }

    var last = el("td", { "data-label": "Last success" });
    if (!s.last_fetch) {
      last.append(el("span", { class: "muted" }, "not fetched yet"));
    } else if (!s.last_success) {
      last.append(el("span", { class: "muted" }, "never"));
    } else {
      last.append(time(s.last_success, ago(now, s.last_success)));
    }
    if (s.last_fetch && Date.parse(s.last_fetch) !== Date.parse(s.last_success || 0)) {
      last.append(el("br"), el("span", { class: "muted small", title: iso(s.last_fetch) }, "tried " + ago(now, s.last_fetch)));
    }

    var failures = el("td", { class: "num", "data-label": "Failures" },
      s.failures ? el("span", { class: "err" }, String(s.failures)) : el("span", { class: "muted" }, "0"));

    tr.append(src, statusCell(s, now), last, failures, nextCell(s, now),
      el("td", { class: "num", "data-label": "Items" }, String(s.items)),
      el("td", { class: "num", "data-label": "Per day" }, perDay(s.items_per_day)));
    return tr;
  }

  function statusCell(s, now) {
    var td = el("td", { class: "status", "data-label": "Status" });
    if (s.gone) {
      td.append(el("span", { class: "err" }, "gone"), " ", el("span", { class: "muted" }, "(410)"), el("br"),
        el("span", { class: "err" }, "The server says the feed was removed. It is not polled any more: update its url in feeds.yaml, or delete the source."));
    } else if (s.error) {
      td.append(el("span", { class: "err" }, "failing"));
      if (s.failures > 1) {
        td.append(" ", el("span", { class: "muted" }, "(" + s.failures + " attempts in a row)"));
      }
      td.append(el("br"), el("span", { class: "err", title: s.error }, shorten(s.error, MAX_ERROR)), el("br"),
        el("span", { class: "muted small since" }, s.last_success
          ? el("span", { title: iso(s.last_success) }, "last success " + ago(now, s.last_success))
          : "no success yet"));
    } else if (s.last_fetch) {
      td.append(el("span", { class: "ok" }, "ok"));
      if (s.http_status) {
        td.append(" ", el("span", { class: "muted" }, "(" + s.http_status + ")"));
      }
    } else {
      td.append(el("span", { class: "muted" }, "never fetched"));
    }
    if (s.moved) {
      td.append(el("br"), el("span", { class: "warn" }, "Moved permanently to ",
        el("a", { href: safeURL(s.moved) }, el("code", null, s.moved)), ", where it is fetched now: set this url in feeds.yaml."));
    }
    if (s.discovered) {
      td.append(el("br"), el("span", { class: "muted" }, "The url is a web page; its feed, found by autodiscovery, is ",
        el("a", { href: safeURL(s.discovered) }, el("code", null, s.discovered)), "."));
    }
    return td;
  }

  function nextCell(s, now) {
    var td = el("td", { "data-label": "Next fetch" });
    if (s.gone) {
      td.append(el("span", { class: "muted" }, "not polled"));
    } else if (s.next_fetch) {
      td.append(time(s.next_fetch, until(now, s.next_fetch)));
      if (s.next_why) {
        td.append(el("br"), el("span", { class: "muted small why" }, s.next_why));
      } else if (s.failures) {
        td.append(el("br"), el("span", { class: "muted small why" },
          "backing off after " + s.failures + (s.failures === 1 ? " failure" : " failures")));
      }
    } else {
      td.append(el("span", { class: "muted" }, "–"));
    }
    return td;
  }

  apply();
  // Say the table is live (for tests, and for styles that want to know).
  table.setAttribute("data-live", "");
})();
