// Hold-to-talk for the web chat (issue 23): press and hold "按住说话", speak, let go.
//
// - Shown only when the server has a speech engine (the page is rendered with
//   data-voice-max-ms) and the browser can record (getUserMedia, MediaRecorder
//   writing Opus in WebM or Ogg); otherwise typing and the phone's own voice
//   input are there as before.
// - Mouse, touch and pen hold the button (pointer capture: sliding off it does not
//   cancel); the keyboard holds Space or Enter; a screen reader's tap (a click with
//   no press before it) starts, a second one sends.
// - Recording stops by itself at the server's cap. The clip is uploaded once and
//   kept nowhere: not in storage, and not in memory after the upload.
(function () {
  "use strict";
  var chat = window.KepuChat;
  var main = document.getElementById("chat");
  var row = document.getElementById("talk-row");
  var talk = document.getElementById("talk");
  var note = document.getElementById("talk-note");
  if (!chat || !row || !talk) return;
  var maxMs = Number(main.getAttribute("data-voice-max-ms")) || 60000;
  var maxBytes = Number(main.getAttribute("data-voice-max-bytes")) || 1048576;
  var MIN_MS = 700;
  var BITS_PER_SECOND = 32000;
  var TYPES = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/ogg"];
  var LABEL = "按住说话";

  function recordingType() {
    if (!window.MediaRecorder || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return null;
    if (typeof window.MediaRecorder.isTypeSupported !== "function") return null;
    for (var i = 0; i < TYPES.length; i++) {
      if (window.MediaRecorder.isTypeSupported(TYPES[i])) return TYPES[i];
    }
    return null;
  }
  var type = recordingType();
  if (!type) return;  // stays hidden
  row.hidden = false;

  var state = "idle";  // idle | starting | recording | stopping | sending
  var stream = null;
  var recorder = null;
  var chunks = [];
  var startedAt = 0;
  var letGo = false;     // released while the browser was still opening the microphone
  var capped = false;
  var capTimer = null;
  var ticker = null;
  var handledAt = 0;     // when a press or release was last handled: its own click is ignored
  var heldKey = null;

  function say(text) { note.textContent = text || ""; }
  function show(label, recording) {
    talk.textContent = label;
    talk.classList.toggle("recording", !!recording);
    talk.setAttribute("aria-pressed", recording ? "true" : "false");
  }
  function release() {
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    recorder = null;
    chunks = [];
    clearTimeout(capTimer);
    clearInterval(ticker);
  }
  function reset() {
    release();
    state = "idle";
    talk.disabled = false;
    show(LABEL, false);
  }

  async function start() {
    if (state !== "idle") return;
    if (chat.isBusy()) { say("请等上一句的回复。"); return; }
    state = "starting";
    letGo = false;
    capped = false;
    say("");
    show("请说话……", true);
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true } });
    } catch (e) {
      reset();
      say("话筒没有打开。请在浏览器设置里允许使用话筒，或者直接打字。");
      return;
    }
    if (letGo) {
      reset();
      say("请按住“按住说话”不放，说完再松开。");
      return;
    }
    try {
      recorder = new window.MediaRecorder(stream, { mimeType: type, audioBitsPerSecond: BITS_PER_SECOND });
    } catch (e) {
      reset();
      say("这个浏览器录不了音，请直接打字。");
      return;
    }
    chunks = [];
    recorder.ondataavailable = function (e) { if (e.data && e.data.size) chunks.push(e.data); };
    recorder.onstop = finished;
    recorder.start(1000);
    startedAt = Date.now();
    state = "recording";
    show("松开 发送", true);
    chat.announce("正在录音，说完松开");
    capTimer = setTimeout(function () { capped = true; stop(); }, maxMs);
    ticker = setInterval(function () {
      var left = Math.ceil((maxMs - (Date.now() - startedAt)) / 1000);
      say("正在录音……" + (left <= 10 ? "还能说 " + left + " 秒" : ""));
    }, 500);
    say("正在录音……");
  }

  function stop() {
    if (state === "starting") { letGo = true; return; }
    if (state !== "recording") return;
    state = "stopping";
    clearTimeout(capTimer);
    clearInterval(ticker);
    recorder.stop();  // then finished()
  }

  function finished() {
    var ms = Date.now() - startedAt;
    var clip = new Blob(chunks, { type: type });
    release();
    if (ms < MIN_MS || !clip.size) {
      reset();
      say("按得太短了。请按住“按住说话”不放，说完再松开。");
      return;
    }
    if (clip.size > maxBytes) {
      reset();
      say("录音太长了，请分几次说。");
      return;
    }
    upload(clip, ms);
  }

  async function upload(clip, ms) {
    state = "sending";
    talk.disabled = true;
    show("正在听……", false);
    say(capped ? "最长 " + Math.round(maxMs / 1000) + " 秒，已经发出去了。" : "");
    var p = chat.voice("🎤 语音 " + Math.max(1, Math.round(ms / 1000)) + " 秒");
    chat.setBusy(true);
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, chat.timeoutMs + 15000);
    var outcome;
    try {
      var resp = await fetch("/api/v1/chat/voice?client_id=" + encodeURIComponent(p.id), {
        method: "POST",
        headers: { "Content-Type": type.split(";")[0] },
        credentials: "same-origin",
        cache: "no-store",
        signal: controller.signal,
        body: clip,
      });
      var data = null;
      try { data = await resp.json(); } catch (e) { data = null; }
      outcome = { status: resp.status, data: data };
    } catch (err) {
      outcome = { kind: controller.signal.aborted ? "timeout" : "network" };
    } finally {
      clip = null;
      clearTimeout(timer);
      chat.setBusy(false);
      reset();
    }
    var data2 = outcome.data;
    if (data2 && (data2.replies || data2.messages)) {
      chat.answered(p, data2, data2.heard || "");
      return;
    }
    var text;
    if (outcome.kind === "network") text = "网络连不上，这段语音没有发出去。请按住再说一遍，或者直接打字。";
    else if (outcome.kind === "timeout") text = "等了很久还没有回复，可能是网络慢。请按住再说一遍，或者直接打字。";
    else if (data2 && data2.error) text = data2.error;
    else text = "这段语音没有发出去。请按住再说一遍，或者直接打字。";
    chat.failed(p, text);
  }

  // ---- holding the button ----
  talk.addEventListener("pointerdown", function (e) {
    if (e.button !== 0 || talk.disabled) return;
    e.preventDefault();  // no text selection, no focus scroll, no long-press menu
    handledAt = Date.now();
    try { talk.setPointerCapture(e.pointerId); } catch (err) { /* still works without */ }
    start();
  });
  function up() {
    handledAt = Date.now();
    if (heldKey === null) stop();
  }
  talk.addEventListener("pointerup", up);
  talk.addEventListener("pointercancel", up);
  talk.addEventListener("lostpointercapture", up);
  talk.addEventListener("contextmenu", function (e) { e.preventDefault(); });
  talk.addEventListener("keydown", function (e) {
    if (e.key !== " " && e.key !== "Enter") return;
    e.preventDefault();  // no click: the key is held, not pressed once
    handledAt = Date.now();
    if (e.repeat || heldKey !== null) return;
    heldKey = e.key;
    start();
  });
  talk.addEventListener("keyup", function (e) {
    if (e.key !== heldKey) return;
    e.preventDefault();
    handledAt = Date.now();
    heldKey = null;
    stop();
  });
  talk.addEventListener("blur", function () {
    if (heldKey !== null) { heldKey = null; stop(); }
  });
  talk.addEventListener("click", function (e) {
    if (Date.now() - handledAt < 1000) return;  // the click of a hold just handled
    // A screen reader's double tap, or a switch: no press came first. Tap to start, tap to send.
    e.preventDefault();
    if (state === "idle") start();
    else stop();
  });
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) stop();  // the phone was locked or another app opened: send what there is
  });
})();
