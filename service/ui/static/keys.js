// Keyboard first. On a queue's list: j/k move between reviews, o (or Enter on the focused
// link) opens, x selects for approving together, X selects every one shown. On a review: a approves, r goes to the
// rejection's note (then Tab to its cause), n opens the next open review. ? lists the keys.
// Keys do nothing while typing in a field, or with Ctrl, Alt or Meta held.
(function () {
  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tr.review-row")); }
  function current(list) {
    const at = list.findIndex(function (row) { return row.contains(document.activeElement); });
    return at >= 0 ? at : list.findIndex(function (row) { return row.classList.contains("current"); });
  }
  function move(step) {
    const list = rows();
    if (!list.length) return;
    const from = current(list);
    const to = from < 0 ? 0 : Math.max(0, Math.min(list.length - 1, from + step));
    list.forEach(function (row, i) { row.classList.toggle("current", i === to); });
    const link = list[to].querySelector("a.open-review");
    if (link) link.focus();
  }
  function selected() {
    const list = rows();
    const at = current(list);
    return at >= 0 ? list[at] : null;
  }
  function click(selector) {
    const element = document.querySelector(selector);
    if (element) element.click();
    return Boolean(element);
  }
  const actions = {
    j: function () { move(1); },
    k: function () { move(-1); },
    o: function () { const row = selected(); if (row) row.querySelector("a.open-review").click(); },
    x: function () {
      const row = selected();
      const box = row && row.querySelector("input[type=checkbox]");
      if (box) box.checked = !box.checked;
    },
    X: function () { const all = document.getElementById("select-all"); if (all) all.click(); },
    a: function () { click("form.approve-form button[type=submit]"); },
    r: function () { const note = document.getElementById("reject-note"); if (note) note.focus(); },
    n: function () { click("a[rel=next]"); },
    "?": function () {
      const help = document.getElementById("keys-help");
      if (help && !help.open) help.showModal();
    },
  };
  document.addEventListener("change", function (event) {
    if (event.target.id !== "select-all") return;
    document.querySelectorAll("tr.review-row input[name=review_id]").forEach(function (box) {
      box.checked = event.target.checked;
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey || typing(event.target)) return;
    const action = actions[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });
})();
