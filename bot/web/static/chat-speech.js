// "🔊 读给我听" under each answer card (issue 23 item 3), shown only when the
// server reads answers aloud (the page is rendered with data-speech="1").
//
// - A tap fetches the card's audio (/api/v1/chat/speech/<entry id>, MP3) and plays it;
//   a second tap stops it. One answer plays at a time.
// - Making the audio may take a while the first time (the server loads its voice):
//   the button says so. If the browser will not play without a fresh tap by then,
//   the button asks for one ("▶ 点这里播放").
// - When anything fails the text answer is still there, and the note under the
//   button says what to do.
(function () {
  "use strict";
  var log = document.getElementById("log");
  var chat = window.KepuChat;
  if (!log) return;
  var LABEL = "🔊 读给我听";
  var WAIT = "正在准备声音……";
  var STOP = "⏹ 停止朗读";
  var PLAY = "▶ 点这里播放";
  var current = null;  // {button, audio, url}

  function note(button, text) {
    var p = button.nextElementSibling;
    if (p && p.classList.contains("speak-note")) p.textContent = text || "";
  }
  function show(button, label, state) {
    button.textContent = label;
    button.setAttribute("aria-label", label.replace(/^[^\u4e00-\u9fa5]+/, ""));
    button.setAttribute("data-state", state);
    button.classList.toggle("playing", state === "playing");
    button.setAttribute("aria-pressed", state === "playing" ? "true" : "false");
    button.disabled = state === "loading";
  }
  function stop() {
    if (!current) return;
    var c = current;
    current = null;
    if (c.audio) {
      c.audio.pause();
      c.audio.removeAttribute("src");
    }
    if (c.url) URL.revokeObjectURL(c.url);
    show(c.button, LABEL, "idle");
  }
  function say(text) { if (chat && chat.announce) chat.announce(text); }

  async function start(button) {
    stop();
    var c = { button: button, audio: null, url: null };
    current = c;
    show(button, WAIT, "loading");
    note(button, "");
    var problem = null;
    var blob = null;
    try {
      var resp = await fetch("/api/v1/chat/speech/" + encodeURIComponent(button.getAttribute("data-entry")), {
        credentials: "same-origin",
      });
      if (resp.ok) {
        blob = await resp.blob();
      } else {
        var data = null;
        try { data = await resp.json(); } catch (e) { data = null; }
        problem = (data && data.error) || "暂时读不了，请看上面的文字。";
      }
    } catch (e) {
      problem = "网络连不上，读不了。请看上面的文字，过一会儿可以再点一次。";
    }
    if (current !== c) return;  // stopped, or another answer tapped meanwhile
    if (problem) {
      current = null;
      show(button, LABEL, "idle");
      note(button, problem);
      say(problem);
      return;
    }
    c.url = URL.createObjectURL(blob);
    c.audio = new Audio(c.url);
    c.audio.addEventListener("ended", function () { if (current === c) stop(); });
    c.audio.addEventListener("error", function () {
      if (current !== c) return;
      stop();
      note(button, "这段声音放不出来，请看上面的文字。");
    });
    play(c);
  }

  async function play(c) {
    try {
      await c.audio.play();
    } catch (e) {
      // Too long since the tap: the browser wants another one before it plays.
      if (current === c) show(c.button, PLAY, "ready");
      return;
    }
    if (current === c) {
      show(c.button, STOP, "playing");
      say("正在朗读");
    }
  }

  log.addEventListener("click", function (e) {
    var button = e.target.closest("button.speak");
    if (!button) return;
    var state = button.getAttribute("data-state");
    if (current && current.button === button) {
      if (state === "ready") play(current);
      else if (state === "playing") stop();
      return;
    }
    start(button);
  });
})();
