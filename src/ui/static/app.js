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
            // A task form that closed (another assignee, a timeout, a cancel) keeps what was typed, read-only.
            var hadFocus = element.contains(document.activeElement);
            var typed = TYPED_TITLES[element.id] ? typedAnswer(element) : null;
            if (typed) element.replaceWith(unsavedAnswer(TYPED_TITLES[element.id], typed));
            else element.remove();
            // The focus would fall back to the page itself: it goes to what says why the form went.
            if (hadFocus) focusStatus();
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
  // The region that says a task's state (a status role, read out when it changes): where focus goes when the form goes.
  function focusStatus() {
    var status = document.getElementById('task-status');
    if (!status) return;
    status.setAttribute('tabindex', '-1');
    status.focus();
  }
  // The task forms whose typed answer outlives their closing, and the heading it is shown under.
  var TYPED_TITLES = { 'task-form': 'Your answer (not saved)', 'decision-form': 'Your comment (not saved)' };
  // A field's name as its label reads, without the required marker.
  function labelText(element) {
    var copy = element.cloneNode(true);
    copy.querySelectorAll('.req, input, select, textarea').forEach(function (child) {
      child.remove();
    });
    return copy.textContent.replace(/\s+/g, ' ').trim();
  }
  // Each field of the form as [name, label, value, multiline], or null when nothing differs from the values
  // the page was loaded with (nothing was typed, so nothing is lost).
  function typedAnswer(form) {
    var changed = false;
    var rows = [];
    form.querySelectorAll('.field').forEach(function (field) {
      var controls = field.querySelectorAll('input:not([type=hidden]), select, textarea');
      if (controls.length === 0) return;
      var title = field.querySelector('.title') || field.querySelector('label');
      var values = [];
      var multiline = false;
      controls.forEach(function (control) {
        if (control.type === 'checkbox') {
          if (control.checked !== control.defaultChecked) changed = true;
          if (field.classList.contains('group')) {
            if (control.checked) values.push(labelText(control.closest('label') || control));
          } else values.push(control.checked ? 'yes' : 'no');
        } else if (control.tagName === 'SELECT') {
          Array.prototype.forEach.call(control.options, function (option) {
            if (option.selected !== option.defaultSelected) changed = true;
          });
          var chosen = control.options[control.selectedIndex];
          if (chosen && chosen.value !== '') values.push(chosen.textContent);
        } else {
          if (control.value !== control.defaultValue) changed = true;
          if (control.value !== '') values.push(control.value);
          multiline = multiline || control.tagName === 'TEXTAREA';
        }
      });
      var name = field.getAttribute('data-field') || controls[0].name;
      rows.push([name, title ? labelText(title) : name, values.join(', ') || '—', multiline]);
    });
    return changed ? rows : null;
  }
  // The section a refused post shows (#unsaved-answer), built from text nodes only.
  function unsavedAnswer(heading, rows) {
    var section = document.createElement('section');
    section.id = 'unsaved-answer';
    var h2 = document.createElement('h2');
    h2.textContent = heading;
    var note = document.createElement('p');
    note.className = 'muted';
    note.textContent =
      'The form was closed before you submitted it (the task ended, or you answered in another tab). This is what you typed, to copy if you still need it.';
    var list = document.createElement('dl');
    list.className = 'meta answers';
    rows.forEach(function (row) {
      var term = document.createElement('dt');
      term.textContent = row[1];
      var value = document.createElement('dd');
      value.textContent = row[2];
      if (row[3]) value.className = 'multiline';
      value.setAttribute('data-unsaved', row[0]);
      list.append(term, value);
    });
    section.append(h2, note, list);
    return section;
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
