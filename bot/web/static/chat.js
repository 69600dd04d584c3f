// Large-print web chat. Replies are inserted as text, never as HTML.
//
// - A new answer is scrolled so that its first line is at the top of the screen.
// - Options are buttons under the message that offered them: while that message is
//   the newest they send its number, later the words that mean the same (or go away).
// - Her words are never lost: the text stays in the box until the server has it;
//   each message has an id, so sending it again after a timeout is handled once.
// - The conversation is kept in this tab (sessionStorage) and shown again after a
//   reload; it never leaves the phone and is gone when the tab is closed.
(function () {
  "use strict";
  var STORE_KEY = "kepu.chat.v1";
  var SIZE_KEY = "kepu.textSize";
  var MAX_SIZE = 3;
  var KEEP_ITEMS = 80;
  var root = document.documentElement;
  var main = document.getElementById("chat");
  var log = document.getElementById("log");
  var live = document.getElementById("announce");
  var form = document.getElementById("composer");
  var input = document.getElementById("text");
  var sendButton = document.getElementById("send");
  var bigger = document.getElementById("bigger");
  var smaller = document.getElementById("smaller");
  var timeoutMs = Number(main.getAttribute("data-timeout-ms")) || 15000;
  var hotlines = readJson(main.getAttribute("data-hotlines")) || { always: [], names: {} };
  var speechOn = main.getAttribute("data-speech") === "1";  // 🔊 读给我听 (chat-speech.js)
  var reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
  var coarse = window.matchMedia("(pointer: coarse)");

  var items = [];      // what the log shows, oldest first (saved in this tab)
  var pending = null;  // her message not yet accepted: {id, send, label, raw, state}
  var busy = false;
  var turn = 0;        // number of the newest bot turn (the page's welcome is 0)

  function readJson(text) {
    try { return JSON.parse(text); } catch (e) { return null; }
  }

  // ---- storage (any of it may be unavailable: private mode, full, disabled) ----
  function load(store, key) {
    try { return store.getItem(key); } catch (e) { return null; }
  }
  function keep(store, key, value) {
    try { store.setItem(key, value); } catch (e) { /* the page still works */ }
  }
  function save() {
    var mine = pending ? { id: pending.id, send: pending.send, label: pending.label, raw: pending.raw } : null;
    keep(window.sessionStorage, STORE_KEY, JSON.stringify({
      items: items.slice(-KEEP_ITEMS), pending: mine, draft: input.value,
    }));
  }

  // ---- text size ----
  function applySize(size) {
    for (var i = 1; i <= MAX_SIZE; i++) root.classList.toggle("text-" + i, size === i);
    bigger.setAttribute("aria-disabled", size >= MAX_SIZE ? "true" : "false");
    smaller.setAttribute("aria-disabled", size <= 0 ? "true" : "false");
  }
  function currentSize() {
    var size = parseInt(load(window.localStorage, SIZE_KEY) || "0", 10);
    return size >= 0 && size <= MAX_SIZE ? size : 0;
  }
  function changeSize(step) {
    var size = Math.max(0, Math.min(MAX_SIZE, currentSize() + step));
    keep(window.localStorage, SIZE_KEY, String(size));
    applySize(size);
  }
  applySize(currentSize());

  // ---- phone numbers become tel: links ----
  var NUMBER = /[0-9]{3,5}/g;
  var CALL_BEFORE = /(打|拨|致电|电话|热线|专线|客服)[\s：:“"（(]*$/;
  var CALL_AFTER = /^[\s）)”"]*(热线|电话|专线|客服)/;
  var NOT_A_CALL = /^[\s”"]*(App|APP|app|上|发|的短信|短信)/;
  // A count or a range is no phone number, even 120: "每分钟100到120次", "120/80毫米汞柱".
  var QUANTITY_AFTER = /^\s*(次|个|元|块|斤|亩|克|千克|公斤|毫|厘米|米|分钟|分|秒|岁|天|日|小时|年|月|度|%|％)/;
  var RANGE_BEFORE = /[0-9]\s*(到|至|~|～|—|-)\s*$/;

  function isHotline(text, start, end) {
    var number = text.slice(start, end);
    var before = text.slice(Math.max(0, start - 6), start);
    var after = text.slice(end, end + 4);
    if (/[A-Za-z0-9._\/-]$/.test(before) || /^[A-Za-z0-9_\/-]/.test(after)) return false;
    if (NOT_A_CALL.test(after) || QUANTITY_AFTER.test(after) || RANGE_BEFORE.test(before)) {
      return false;
    }
    return hotlines.always.indexOf(number) >= 0 || CALL_BEFORE.test(before) || CALL_AFTER.test(after);
  }
  function telLink(number) {
    var a = document.createElement("a");
    a.href = "tel:" + number;
    a.textContent = number;
    var name = hotlines.names[number];
    a.setAttribute("aria-label", name ? "拨打 " + number + " " + name : "拨打电话 " + number);
    return a;
  }
  function linked(text) {
    var out = document.createDocumentFragment();
    var at = 0;
    var match;
    NUMBER.lastIndex = 0;
    while ((match = NUMBER.exec(text)) !== null) {
      var start = match.index;
      var end = start + match[0].length;
      if (/[0-9]/.test(text.charAt(start - 1)) || /[0-9]/.test(text.charAt(end))) continue;
      if (!isHotline(text, start, end)) continue;
      out.appendChild(document.createTextNode(text.slice(at, start)));
      var link = telLink(match[0]);
      at = end;
      if (/[。，、；：！？）)”]/.test(text.charAt(end))) {
        // keep "120。" together: a line never starts with the punctuation after a link
        var together = el("span", "nobr");
        together.appendChild(link);
        together.appendChild(document.createTextNode(text.charAt(end)));
        link = together;
        at = end + 1;
      }
      out.appendChild(link);
    }
    out.appendChild(document.createTextNode(text.slice(at)));
    return out;
  }
  function el(tag, className, text, withLinks) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.appendChild(withLinks ? linked(text) : document.createTextNode(text));
    return node;
  }

  // ---- rendering ----
  function optionButton(o) {
    var b = el("button", "opt", (o.number ? o.number + " " : "") + o.label);
    b.type = "button";
    b.setAttribute("data-send", o.send);
    b.setAttribute("data-label", o.label);
    if (o.number) b.setAttribute("data-number", String(o.number));
    if (o.later) b.setAttribute("data-later", o.later);
    return b;
  }
  function optionsGroup(options) {
    var group = el("div", "options");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "可以点的选项");
    options.forEach(function (o) { group.appendChild(optionButton(o)); });
    return group;
  }
  function details(summary, paragraphs, url) {
    var d = el("details");
    d.appendChild(el("summary", "", summary));
    paragraphs.forEach(function (p) { if (p) d.appendChild(el("p", "", p, true)); });
    if (url) {
      var p = el("p");
      var a = el("a", "", "打开出处网页");
      a.href = url;
      a.rel = "noopener noreferrer";
      a.target = "_blank";
      p.appendChild(a);
      d.appendChild(p);
    }
    return d;
  }
  function renderCard(reply, li) {
    var c = reply.card;
    li.classList.add("card");
    li.appendChild(el("p", "lead", (c.verdict ? "【" + c.verdict + "】" : "") + c.lead, true));
    if (c.more) li.appendChild(details("多讲一点", [c.more]));
    if (c.steps && c.steps.length) {
      var ol = el("ol", "steps");
      c.steps.forEach(function (s) { ol.appendChild(el("li", "", s, true)); });
      li.appendChild(ol);
    }
    if (speechOn && c.entry_id) {
      // Read aloud: the first sentence and the steps (chat-speech.js plays them).
      var speak = el("button", "speak", "🔊 读给我听");
      speak.type = "button";
      speak.setAttribute("data-entry", c.entry_id);
      speak.setAttribute("aria-label", "读给我听");
      li.appendChild(speak);
      var said = el("p", "speak-note");
      said.setAttribute("aria-live", "polite");
      li.appendChild(said);
    }
    // The source and "看出处" share a line: the answer stays one screen long.
    var cite = el("div", "cite");
    cite.appendChild(el("p", "source", c.source));
    cite.appendChild(details("看出处", c.cite || [], c.url));
    li.appendChild(cite);
  }
  function renderBot(reply, turnNo) {
    var li = el("li", "msg bot");
    li.setAttribute("data-turn", String(turnNo));
    if (reply.card) {
      renderCard(reply, li);
    } else {
      li.appendChild(el("div", "text", reply.text, true));
    }
    if (reply.options && reply.options.length) {
      var group = optionsGroup(reply.options);
      if (reply.card) {
        // An answer's feedback question and its two buttons share one row.
        var row = el("div", "feedback");
        row.appendChild(el("p", "ask", "对您有用吗？"));
        row.appendChild(group);
        li.appendChild(row);
      } else {
        li.appendChild(group);
      }
    }
    if (reply.after) li.appendChild(el("div", "text", reply.after, true));
    log.appendChild(li);
    return li;
  }
  function spoken(reply) {
    var parts = [];
    if (reply.card) {
      var c = reply.card;
      parts.push((c.verdict ? "【" + c.verdict + "】" : "") + c.lead);
      (c.steps || []).forEach(function (s, i) { parts.push((i + 1) + "、" + s); });
      parts.push(c.source);
    } else {
      parts.push(reply.text);
    }
    var options = (reply.options || []).map(function (o) { return (o.number ? o.number + " " : "") + o.label; });
    if (options.length) parts.push("可以点的选项：" + options.join("，"));
    if (reply.after) parts.push(reply.after);
    return parts.filter(Boolean).join("\n");
  }
  function renderMine(text) {
    var li = el("li", "msg me");
    li.appendChild(el("div", "text", text));
    log.appendChild(li);
    return li;
  }
  function setState(li, text, bad, retry) {
    var old = li.querySelectorAll(".state, .retry");
    for (var i = 0; i < old.length; i++) old[i].remove();
    if (!text) return;
    li.appendChild(el("p", bad ? "state bad" : "state", text, true));
    if (retry) {
      var b = el("button", "retry", "重发");
      b.type = "button";
      li.appendChild(b);
    }
  }

  // Options of older turns: the words that mean the same, or nothing.
  function supersede() {
    var groups = log.querySelectorAll(".options");
    for (var i = 0; i < groups.length; i++) {
      var li = groups[i].closest(".msg");
      if (Number(li.getAttribute("data-turn")) === turn) continue;
      var buttons = groups[i].querySelectorAll("button.opt");
      for (var j = 0; j < buttons.length; j++) {
        var b = buttons[j];
        var later = b.getAttribute("data-later");
        if (later && b.hasAttribute("data-number")) {
          b.setAttribute("data-send", later);
          b.removeAttribute("data-number");
          b.textContent = b.getAttribute("data-label");
        } else if (!later) {
          b.remove();
        }
      }
      if (!groups[i].querySelector("button")) {
        var row = li.querySelector(".feedback");  // "对您有用吗？" without its buttons
        if (row) row.remove();
        groups[i].remove();
      }
    }
  }

  function addTurn(replies) {
    turn += 1;
    var first = null;
    replies.forEach(function (reply) {
      var li = renderBot(reply, turn);
      first = first || li;
    });
    supersede();
    return first;
  }

  function announce(text) {
    // Only the newest turn, once (the log itself is not a live region).
    live.textContent = live.textContent === text ? text + "\u200b" : text;
  }

  function showAtTop(li) {
    if (!li) return;
    li.scrollIntoView({ block: "start", behavior: reduceMotion.matches ? "auto" : "smooth" });
  }
  function showEnd() {
    window.scrollTo({ top: document.documentElement.scrollHeight, behavior: reduceMotion.matches ? "auto" : "smooth" });
  }

  // ---- sending ----
  function newId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  }

  function setBusy(on) {
    busy = on;
    sendButton.disabled = on;
    sendButton.textContent = on ? "等回复" : "发送";
  }

  function submit(send, label, raw) {
    send = (send || "").trim();
    if (!send || busy) return;  // one message at a time
    if (pending) {
      if (pending.send === send) return post(pending);  // the same words again: a resend
      setState(pending.li, "这句话没有发出去。", true, false);
      items.push({ who: "me", text: pending.label, lost: true });
    }
    pending = { id: newId(), send: send, label: label || send, raw: raw };
    pending.li = renderMine(pending.label);
    save();
    post(pending);
  }

  function clearBox(p) {
    if (p.raw === undefined || p.raw === null) return;
    if (input.value === p.raw || input.value.trim() === p.send) {
      input.value = "";
    } else if (p.raw && input.value.indexOf(p.raw) === 0) {
      input.value = input.value.slice(p.raw.length).replace(/^\s+/, "");  // what she typed meanwhile
    }
    fit();
  }

  function failure(kind, status, data, fromBox) {
    var words = fromBox ? "您的话还在输入框里，可以点“重发”。" : "可以点“重发”再试一次。";
    if (kind === "network") return "网络连不上，这句话没有发出去。" + words;
    if (kind === "timeout") {
      return "等了 " + Math.round(timeoutMs / 1000) + " 秒还没有收到回复，可能是网络慢，也可能是助手忙。" + words;
    }
    if (data && data.error) return data.error + (status >= 500 || status === 429 ? words : "");
    if (status >= 500) return "服务器出了点问题，这句话没有处理。" + words;
    return "这句话没有发出去。" + words;
  }

  async function post(p) {
    setBusy(true);
    setState(p.li, "正在发送……", false, false);
    var waiting = el("li", "msg bot wait", "正在回复……");
    log.appendChild(waiting);
    showEnd();
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, timeoutMs);
    var outcome;
    try {
      var resp = await fetch("/api/v1/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        credentials: "same-origin",
        cache: "no-store",
        signal: controller.signal,
        body: JSON.stringify({ message: p.send, client_id: p.id }),
      });
      var data = null;
      try { data = await resp.json(); } catch (e) { data = null; }
      if (controller.signal.aborted) throw new Error("timeout");
      outcome = { status: resp.status, data: data };
    } catch (err) {
      outcome = { kind: controller.signal.aborted ? "timeout" : "network" };
    } finally {
      clearTimeout(timer);
      waiting.remove();
      setBusy(false);
    }
    var data2 = outcome.data;
    var ok = outcome.status === 200 && data2 && (data2.replies || data2.messages);
    if (!ok) {
      var refused = outcome.status === 400 || outcome.status === 413 || outcome.status === 415;
      var kind = outcome.kind || "server";
      var text = failure(kind, outcome.status || 0, data2, !!p.raw);
      setState(p.li, text, true, !refused);
      announce(text);
      save();
      showEnd();  // her message, what happened and 重发, above the box
      return;
    }
    answered(p, data2);
  }

  // The assistant's answer to her message p (typed, tapped, or heard from her voice).
  function answered(p, data2) {
    var replies = data2.replies || (data2.messages || []).map(function (m) { return { text: m, options: [] }; });
    if (data2.keep) {
      // Answered, but not handled (too long, or the assistant failed mid-turn): keep her words.
      var kept = p.raw ? "您的话还在输入框里" : "";
      var note = data2.retry ? "这句话还没有处理。" + (kept ? kept + "，" : "") + "可以点“重发”。" : "这句话没有处理。" + (kept ? kept + "。" : "");
      setState(p.li, note, true, !!data2.retry);
      if (!data2.retry) {  // too long: sending the same again would not help
        items.push({ who: "me", text: p.label, lost: true });
        pending = null;
      }
    } else {
      setState(p.li, "", false, false);
      items.push({ who: "me", text: p.label });
      clearBox(p);
      pending = null;
    }
    var first = addTurn(replies);
    items.push({ who: "bot", replies: replies });
    save();
    announce(replies.map(spoken).join("\n"));
    showAtTop(first);
    if (coarse.matches) input.blur();  // the on-screen keyboard would cover the answer
  }

  // ---- for the hold-to-talk button (chat-voice.js) ----
  window.KepuChat = {
    timeoutMs: timeoutMs,
    isBusy: function () { return busy; },
    setBusy: setBusy,
    // Her voice message, shown at once: {id, li, label}; an unsent typed one is given up.
    voice: function (label) {
      if (pending) {
        setState(pending.li, "这句话没有发出去。", true, false);
        items.push({ who: "me", text: pending.label, lost: true });
        pending = null;
      }
      var p = { id: newId(), send: "", label: label, raw: null };
      p.li = renderMine(label);
      setState(p.li, "正在听……", false, false);
      showEnd();
      return p;
    },
    // The answer to it; ``heard`` (the transcript) replaces the label, and is what
    // 重发 sends as text if the assistant could not answer.
    answered: function (p, data, heard) {
      if (heard) {
        p.send = heard;
        p.label = heard;
        p.li.querySelector(".text").textContent = heard;
        if (data.keep && data.retry) pending = p;
      }
      answered(p, data);
    },
    failed: function (p, text) {
      setState(p.li, text, true, false);
      items.push({ who: "me", text: p.label, lost: true });
      announce(text);
      save();
      showEnd();
    },
    announce: announce,
  };

  // ---- restoring this tab's conversation ----
  function restore() {
    var saved = readJson(load(window.sessionStorage, STORE_KEY));
    if (!saved) return;
    var lastFirst = null;
    (saved.items || []).forEach(function (item) {
      if (item.who === "me") {
        var li = renderMine(item.text);
        if (item.lost) setState(li, "这句话没有发出去。", true, false);
        items.push(item);
      } else if (item.who === "bot" && item.replies) {
        lastFirst = addTurn(item.replies);
        items.push(item);
      }
    });
    if (typeof saved.draft === "string") input.value = saved.draft;
    if (saved.pending && saved.pending.id && saved.pending.send) {
      pending = saved.pending;
      pending.li = renderMine(pending.label || pending.send);
      if (pending.raw && input.value.indexOf(pending.raw) < 0) input.value = pending.raw + input.value;
      setState(pending.li, "这句话可能没有发出去。" + (pending.raw ? "您的话还在输入框里，" : "") + "可以点“重发”。", true, true);
    }
    if (pending) {
      pending.li.scrollIntoView({ block: "end" });
    } else if (lastFirst) {
      lastFirst.scrollIntoView({ block: "start" });
    }
  }

  // ---- events ----
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (busy) return;
    var raw = input.value;
    if (!raw.trim()) { input.focus(); return; }
    submit(raw, raw.trim(), raw);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  // The box grows with what she writes, up to four lines.
  function fit() {
    input.rows = 1;
    while (input.scrollHeight > input.clientHeight + 2 && input.rows < 4) input.rows += 1;
  }
  var drafting = null;
  input.addEventListener("input", function () {
    fit();
    clearTimeout(drafting);
    drafting = setTimeout(save, 300);
  });
  log.addEventListener("click", function (e) {
    var target = e.target.closest("button");
    if (!target) return;
    if (target.classList.contains("retry")) {
      if (pending && !busy) post(pending);
    } else if (target.classList.contains("opt")) {
      submit(target.getAttribute("data-send"), target.textContent, null);
    }
  });
  document.querySelectorAll(".bar [data-send]").forEach(function (b) {
    b.addEventListener("click", function () { submit(b.getAttribute("data-send"), b.textContent, null); });
  });
  bigger.addEventListener("click", function () { changeSize(1); });
  smaller.addEventListener("click", function () { changeSize(-1); });
  if ("scrollRestoration" in window.history) window.history.scrollRestoration = "manual";
  restore();
  fit();
})();
