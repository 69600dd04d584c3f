// Large-print web chat. Replies are inserted as text, never as HTML.
(function () {
  "use strict";
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  const sendButton = document.getElementById("send");
  let busy = false;

  function add(text, who) {
    const li = document.createElement("li");
    li.className = "msg " + who;
    li.textContent = text;
    log.appendChild(li);
    li.scrollIntoView({ block: "end" });
    return li;
  }

  async function send(text) {
    text = (text || "").trim();
    if (!text || busy) return;
    busy = true;
    sendButton.disabled = true;
    add(text, "me");
    const waiting = add("正在回复……", "bot wait");
    try {
      const resp = await fetch("/api/v1/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        credentials: "same-origin",
        body: JSON.stringify({ message: text }),
      });
      const data = await resp.json();
      waiting.remove();
      const messages = (data && data.messages) || [data && data.error ? data.error : "系统正忙，请稍后再试。"];
      messages.forEach(function (m) { add(m, "bot"); });
    } catch (err) {
      waiting.remove();
      add("网络不太好，没有发出去，请再发一次。", "bot");
    } finally {
      busy = false;
      sendButton.disabled = false;
      input.focus();
    }
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    const text = input.value;
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  document.querySelectorAll("[data-send]").forEach(function (b) {
    b.addEventListener("click", function () { send(b.getAttribute("data-send")); });
  });
})();
