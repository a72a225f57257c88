// AutoFlow web UI: the little script the server-rendered pages need.
// Live pages: the server sends `change` over server-sent events; the page fetches itself again
// and swaps its live regions (elements with data-live-region and an id). Forms are never inside one:
// a form that only applies for a while (Cancel run, Send a signal) carries data-live-optional and an
// id instead, and is removed when the fresh page no longer has it, but never replaced, so what is
// typed into it stays.
(function () {
  'use strict';
  var url = document.body.getAttribute('data-live');
  // One refresh at a time; a change that arrives while one waits or runs asks for another after
  // it, so the page always ends on the state after the last change.
  var timer = null;
  var busy = false;
  var again = false;
  if (url && 'EventSource' in window) {
    var source = new EventSource(url);
    var connected = false;
    // After a reconnect the page may have missed changes: catch up once.
    source.addEventListener('ready', function () {
      if (connected) schedule();
      connected = true;
      document.body.setAttribute('data-live-ready', '1');
    });
    source.addEventListener('change', schedule);
    window.addEventListener('pagehide', function () {
      source.close();
    });
  }
  // data-live-queued marks a change that waits for the refresh under way (tests wait for it).
  function schedule() {
    if (busy) {
      again = true;
      document.body.setAttribute('data-live-queued', '1');
      return;
    }
    if (timer === null) timer = setTimeout(refresh, 150);
  }
  function refresh() {
    timer = null;
    busy = true;
    again = false;
    document.body.removeAttribute('data-live-queued');
    fetch(location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin' })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (text) {
        if (text === null) return;
        var fresh = new DOMParser().parseFromString(text, 'text/html');
        document.querySelectorAll('[data-live-region]').forEach(function (region) {
          var next = fresh.getElementById(region.id);
          if (next) region.replaceWith(document.importNode(next, true));
        });
        localiseTimes(document);
        document.querySelectorAll('[data-live-optional]').forEach(function (element) {
          var next = fresh.getElementById(element.id);
          if (!next) {
            element.remove();
            return;
          }
          // Kept, not replaced, but it follows the fresh page's state: a task that closed disables its form.
          var fieldsets = element.querySelectorAll('fieldset');
          var freshFieldsets = next.querySelectorAll('fieldset');
          fieldsets.forEach(function (fieldset, index) {
            if (freshFieldsets[index]) fieldset.disabled = freshFieldsets[index].disabled;
          });
        });
        document.body.setAttribute('data-refreshed', String(Date.now()));
      })
      .catch(function () {
        /* the next change or reconnect tries again */
      })
      .then(function () {
        busy = false;
        if (again) schedule();
      });
  }
  // Times come as <time datetime> with UTC text; shown here in the browser's zone, named (the UTC
  // text stays in the tooltip). Fresh live regions bring UTC text again, so this runs after each swap.
  function localiseTimes(root) {
    if (!window.Intl || !Intl.DateTimeFormat.prototype.formatToParts) return;
    var format = new Intl.DateTimeFormat('en-GB', {
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    root.querySelectorAll('time[datetime]:not([data-local])').forEach(function (element) {
      var date = new Date(element.getAttribute('datetime'));
      if (isNaN(date.getTime())) return;
      var part = {};
      format.formatToParts(date).forEach(function (item) {
        part[item.type] = item.value;
      });
      element.title = element.textContent;
      element.textContent =
        part.year + '-' + part.month + '-' + part.day + ' ' + part.hour + ':' + part.minute + ':' + part.second + ' ' + part.timeZoneName;
      element.setAttribute('data-local', '1');
    });
  }
  localiseTimes(document);
  // Timeline bars: a click, or Enter or Space on a focused bar, scrolls to its line in the readable history.
  function showBar(bar) {
    var row = document.getElementById('h' + bar.getAttribute('data-seq'));
    if (row) {
      row.scrollIntoView({ block: 'center' });
      row.classList.add('flash');
      setTimeout(function () {
        row.classList.remove('flash');
      }, 1200);
    }
  }
  document.addEventListener('click', function (event) {
    var bar = event.target.closest && event.target.closest('[data-seq]');
    if (bar) showBar(bar);
  });
  document.addEventListener('keydown', function (event) {
    if (event.key !== 'Enter' && event.key !== ' ') return;
    var bar = event.target.closest && event.target.closest('g[data-seq]');
    if (!bar) return;
    event.preventDefault();
    showBar(bar);
  });
})();
