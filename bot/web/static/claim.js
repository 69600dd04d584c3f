// The claim page's verdict form: a live preview of what reporters will receive,
// and the form saved on the server as a draft while it is typed.
// The page works without this file: the preview is rendered once by the server,
// and "保存草稿" saves the draft. Texts are shown with textContent, never as HTML.
(function () {
  "use strict";
  var form = document.getElementById("conclude-form");
  if (!form) return;
  var PREVIEW_MS = 400;
  var SAVE_MS = 2000;
  var MAX_EXPLANATION = 300;
  var status = document.getElementById("draft-status");
  var counter = document.getElementById("explanation-count");
  var explanation = document.getElementById("explanation");
  var previewTimer = null;
  var saveTimer = null;
  var dirty = false;
  var saving = false;
  var submitting = false;

  function fields() {
    var data = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      data.append(name, value);
    });
    return data;
  }

  function say(text) {
    status.textContent = text;
  }

  function bubble(text) {
    var div = document.createElement("div");
    div.className = "bubble user-text";
    div.textContent = text;
    return div;
  }

  function meta(text) {
    var p = document.createElement("p");
    p.className = "meta";
    p.textContent = text;
    return p;
  }

  function showPreview(p) {
    var wechat = document.getElementById("preview-wechat");
    wechat.replaceChildren();
    p.wechat.forEach(function (chunk, i) {
      wechat.appendChild(bubble(chunk.text));
      wechat.appendChild(
        meta("第 " + (i + 1) + " 条，" + chunk.bytes + " / " + p.wechat_limit + " 字节")
      );
    });
    var web = p.webchat.text + (p.webchat.after ? "\n" + p.webchat.after : "");
    document.getElementById("preview-webchat").textContent = web;
    document.getElementById("preview-size").textContent = "共 " + p.chars + " 字，" + p.lines + " 行";
    document.getElementById("preview-receipt").textContent = p.receipt;
    document.getElementById("preview-warning").hidden = p.verdict_chosen;
  }

  function countChars() {
    var n = explanation.value.trim().length;
    counter.textContent =
      "已写 " + n + " 字，最多 " + MAX_EXPLANATION + " 字" + (n > MAX_EXPLANATION ? "（超了 " + (n - MAX_EXPLANATION) + " 字，发布前请删减）" : "");
    counter.classList.toggle("over", n > MAX_EXPLANATION);
  }

  function preview() {
    fetch(form.dataset.preview, { method: "POST", body: fields(), credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) throw new Error(String(r.status));
        return r.json();
      })
      .then(showPreview)
      .catch(function () {
        document.getElementById("preview-size").textContent = "预览暂时更新不了；发布时以实际发送为准。";
      });
  }

  function save() {
    if (!dirty || saving || submitting) return;
    saving = true;
    dirty = false;
    fetch(form.dataset.draft, { method: "POST", body: fields(), credentials: "same-origin" })
      .then(function (r) {
        return r
          .json()
          .catch(function () {
            return { error: r.status === 403 ? "登录已过期，请在新标签页重新登录" : "服务器没有回应" };
          })
          .then(function (body) {
            if (!r.ok || body.error) throw new Error(body.error || String(r.status));
            say("草稿已自动保存于 " + body.saved_at + "（只有您自己能看到）");
          });
      })
      .catch(function (e) {
        dirty = true;
        say("草稿没保存上（" + e.message + "）。请先别关闭这个页面，内容还在。");
      })
      .then(function () {
        saving = false;
      });
  }

  function changed() {
    dirty = true;
    countChars();
    say("正在保存草稿……");
    clearTimeout(previewTimer);
    previewTimer = setTimeout(preview, PREVIEW_MS);
    clearTimeout(saveTimer);
    saveTimer = setTimeout(save, SAVE_MS);
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", function () {
    // The form itself now saves the draft (and may publish it): no late autosave
    // may bring back a draft that publishing has just cleared.
    submitting = true;
    clearTimeout(saveTimer);
    clearTimeout(previewTimer);
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty && !submitting) {
      save();
      event.preventDefault();
      event.returnValue = "";
    }
  });
  countChars();
})();
