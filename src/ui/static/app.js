// AutoFlow web UI: the little script the server-rendered pages need.
// Live pages: the server sends `change` over server-sent events; the page fetches itself again
// and swaps its live regions (elements with data-live-region and an id). Forms are never inside one.
(function () {
  'use strict';
  var url = document.body.getAttribute('data-live');
  if (url && 'EventSource' in window) {
    var pending = null;
    var source = new EventSource(url);
    var connected = false;
    // After a reconnect the page may have missed changes: catch up once.
    source.addEventListener('ready', function () {
      if (connected) refresh();
      connected = true;
      document.body.setAttribute('data-live-ready', '1');
    });
    source.addEventListener('change', function () {
      if (pending) return;
      pending = setTimeout(refresh, 150);
    });
    window.addEventListener('pagehide', function () { source.close(); });
  }
  function refresh() {
    fetch(location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin' })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (text) {
        pending = null;
        if (text === null) return;
        var fresh = new DOMParser().parseFromString(text, 'text/html');
        document.querySelectorAll('[data-live-region]').forEach(function (region) {
          var next = fresh.getElementById(region.id);
          if (next) region.replaceWith(document.importNode(next, true));
        });
        document.body.setAttribute('data-refreshed', String(Date.now()));
      })
      .catch(function () { pending = null; });
  }
  // Timeline bars: clicking one scrolls to its line in the readable history.
  document.addEventListener('click', function (event) {
    var bar = event.target.closest && event.target.closest('[data-seq]');
    if (!bar) return;
    var row = document.getElementById('h' + bar.getAttribute('data-seq'));
    if (row) { row.scrollIntoView({ block: 'center' }); row.classList.add('flash'); setTimeout(function () { row.classList.remove('flash'); }, 1200); }
  });
})();
