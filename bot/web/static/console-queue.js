// The claim queue's keyboard shortcuts and "select all". Everything also works
// without this script: links, checkboxes and buttons are plain HTML.
(function () {
  "use strict";
  var table = document.getElementById("queue");
  var rows = table ? Array.prototype.slice.call(table.tBodies[0].rows) : [];
  var picks = rows.map(function (row) { return row.querySelector("input[name=claim]"); });
  var all = document.getElementById("pick-all");
  var count = document.getElementById("selected-count");
  var current = -1;

  function updateCount() {
    var n = picks.filter(function (p) { return p && p.checked; }).length;
    if (count) { count.textContent = String(n); }
    if (all) {
      all.checked = n > 0 && n === picks.length;
      all.indeterminate = n > 0 && n < picks.length;
    }
    rows.forEach(function (row, i) { row.classList.toggle("picked", !!(picks[i] && picks[i].checked)); });
  }

  function highlight(i) {
    current = i;
    rows.forEach(function (row, j) { row.classList.toggle("current", j === current); });
  }

  function move(to) {
    if (!rows.length) { return; }
    highlight(Math.max(0, Math.min(rows.length - 1, to)));
    var link = rows[current].querySelector("a.claim-link");
    if (link) { link.focus(); }
  }

  function rowOf(element) {
    var row = element && element.closest ? element.closest("#queue tbody tr") : null;
    return row ? rows.indexOf(row) : -1;
  }

  function follow(rel) {
    var link = document.querySelector(".pages a[rel=" + rel + "]");
    if (link) { window.location.href = link.href; }
  }

  if (all) {
    all.addEventListener("change", function () {
      picks.forEach(function (p) { if (p) { p.checked = all.checked; } });
      updateCount();
    });
  }
  picks.forEach(function (p) { if (p) { p.addEventListener("change", updateCount); } });
  document.addEventListener("focusin", function (event) {
    var i = rowOf(event.target);
    if (i >= 0) { highlight(i); }
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var target = event.target;
    var typing = target && (target.isContentEditable ||
      /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName) && target.type !== "checkbox");
    if (typing) {
      if (event.key === "Escape") { target.blur(); }
      return;
    }
    var key = event.key;
    if (key === "j") { move(current + 1); }
    else if (key === "k") { move(current < 0 ? 0 : current - 1); }
    else if (key === "x" && current >= 0 && picks[current]) {
      picks[current].checked = !picks[current].checked;
      updateCount();
    } else if (key === "a" && current >= 0) {
      var mine = rows[current].querySelector("button.mine");
      if (mine) { mine.click(); }
    } else if (key === "/") {
      var search = document.getElementById("f-q");
      if (search) { search.focus(); search.select(); }
    } else if (key === "n") { follow("next"); }
    else if (key === "p") { follow("prev"); }
    else { return; }
    event.preventDefault();
  });
  updateCount();
}());
