/* Switchboard website chat widget. Plain JavaScript, no build step. Served by /widget/<public key>.js with CONFIG
   prepended ({key, socket, prechat}). Everything lives in a shadow root, so the host page's CSS cannot reach it and
   its styles cannot reach the page. Protocol: crm/widget/consumer.py. Texts: built-in English, replaced by the
   welcome frame's, in the language the hello frame asks for (window.switchboardChat.language, else the browser's). */
(function (CONFIG) {
  "use strict";
  if (!CONFIG || window["__switchboardChat_" + CONFIG.key]) return;
  var held = false;
  // once per page and inbox; drop()/resume() let a test (or a support engineer) cut the socket and reconnect
  window["__switchboardChat_" + CONFIG.key] = {
    drop: function () { held = true; if (socket) socket.close(); },
    resume: function () { held = false; if (!socket) connect(); }
  };
  var STORE = "switchboard-chat:" + CONFIG.key; // per inbox key: two sites' widgets in one browser never mix
  var page = window.switchboardChat || {};
  var state = { messages: [], status: null, conversation: null, rating: null, available: true, prechatDone: false };
  var outbox = []; // messages not yet confirmed: resent (same client_id, stored once) after a reconnect
  var socket = null, retry = 0, fatal = null, typingSent = 0, agentTypingTimer = null;
  // built-in English; the welcome frame's `texts` (the visitor's language, crm/widget/texts.py) replace them
  var T = { title: "Chat with us", dialog: "Chat", open: "Open chat", typing: "Agent is typing…", name: "Your name",
    email: "Your e-mail", start: "Start chat", followup_email: "Your e-mail for our answer", followup: "Continue by e-mail",
    transcript_email: "E-mail for the transcript", transcript: "Send transcript", message: "Write a message…",
    send: "Send", fill_name: "Please fill in your name.", fill_email: "Please fill in your e-mail.",
    transcript_sent: "The transcript is on its way to {email}.",
    followed_up: "Thank you: we will answer you by e-mail at {email}.", offline: "Nobody is available right now.",
    offline_email: "Leave your e-mail and we will answer there.",
    resolved: "This conversation is resolved. Write again to reopen it.", rate_question: "How did we do?",
    rate: "Rate {score}", unavailable: "Chat unavailable on this website." };
  function t(key, values) {
    return T[key].replace(/\{(\w+)\}/g, function (all, name) { return values && name in values ? values[name] : all; });
  }

  function load() { try { return JSON.parse(localStorage.getItem(STORE) || "{}"); } catch (e) { return {}; } }
  function save(patch) {
    var s = load(); for (var k in patch) s[k] = patch[k];
    try { localStorage.setItem(STORE, JSON.stringify(s)); } catch (e) { /* private mode: this tab only */ }
  }

  var host = document.createElement("switchboard-chat");
  // inline !important beats any page rule on the host element (e.g. `* {display:none !important}`)
  var hostStyle = { all: "initial", display: "block", position: "fixed", right: "20px", bottom: "20px",
    "z-index": "2147483000", "font-size": "14px", visibility: "visible", opacity: "1" };
  for (var p in hostStyle) host.style.setProperty(p, hostStyle[p], "important");
  var root = host.attachShadow({ mode: "open" });
  root.innerHTML =
    "<style>:host{all:initial}*{box-sizing:border-box;font:14px/1.4 system-ui,sans-serif;margin:0;padding:0}" +
    ".launcher{display:block;width:56px;height:56px;border-radius:28px;border:0;background:#2f5bea;color:#fff;" +
    "font-size:24px;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.3)}.panel{display:none;flex-direction:column;" +
    "width:320px;height:440px;background:#fff;color:#222;border-radius:8px;box-shadow:0 4px 16px rgba(0,0,0,.3);" +
    "overflow:hidden;margin-bottom:10px}.open .panel{display:flex}header{background:#2f5bea;color:#fff;padding:10px;" +
    "font-weight:600}.log{flex:1;overflow-y:auto;padding:8px}.msg{margin:4px 0;padding:6px 10px;border-radius:12px;" +
    "max-width:80%;white-space:pre-wrap;word-wrap:break-word}.visitor{background:#2f5bea;color:#fff;margin-left:auto}" +
    ".agent{background:#eee}.note{color:#666;font-size:12px;padding:4px 8px}.error{color:#b00020}" +
    "form{display:flex;gap:4px;padding:8px;border-top:1px solid #ddd;flex-wrap:wrap}input,textarea{flex:1;border:1px solid #ccc;" +
    "border-radius:4px;padding:6px;min-width:0}button.send{background:#2f5bea;color:#fff;border:0;border-radius:4px;" +
    "padding:6px 10px;cursor:pointer}.hidden{display:none!important}.stars button{border:0;background:none;" +
    "font-size:20px;cursor:pointer}</style>" +
    "<div class='wrap'><div class='panel' role='dialog'><header></header>" +
    "<div class='note status' aria-live='polite'></div><div class='log' aria-live='polite'></div>" +
    "<div class='note typing hidden'></div><div class='rating hidden'></div>" +
    "<form class='prechat hidden'><input name='name'><input name='email' type='email'>" +
    "<button class='send' type='submit'></button></form>" +
    "<form class='followup hidden'><input name='email' type='email'><button class='send' type='submit'></button></form>" +
    "<form class='transcript hidden'><input name='email' type='email'><button class='send' type='submit'></button></form>" +
    "<form class='compose'><textarea name='body' rows='2'></textarea><button class='send' type='submit'></button></form>" +
    "</div><button class='launcher' type='button'>💬</button></div>";
  function $(sel) { return root.querySelector(sel); }
  // [selector, attribute (or text), key]: every fixed text of the panel, set again when the welcome brings them
  var LABELS = [[".panel", "aria-label", "dialog"], ["header", "", "title"], [".typing", "", "typing"],
    [".prechat [name=name]", "placeholder", "name"], [".prechat [name=name]", "aria-label", "name"],
    [".prechat [name=email]", "placeholder", "email"], [".prechat [name=email]", "aria-label", "email"],
    [".prechat button", "", "start"], [".followup input", "placeholder", "followup_email"],
    [".followup input", "aria-label", "email"], [".followup button", "", "followup"],
    [".transcript input", "placeholder", "transcript_email"], [".transcript input", "aria-label", "transcript_email"],
    [".transcript button", "", "transcript"], [".compose textarea", "placeholder", "message"],
    [".compose textarea", "aria-label", "message"], [".compose button", "", "send"], [".launcher", "aria-label", "open"]];
  function applyTexts(texts) {
    for (var k in texts || {}) if (typeof texts[k] === "string" && k in T) T[k] = texts[k];
    LABELS.forEach(function (l) { var el = $(l[0]); if (l[1]) el.setAttribute(l[1], T[l[2]]); else el.textContent = T[l[2]]; });
  }
  applyTexts(null);
  var followup = $(".followup");
  followup.addEventListener("submit", function (e) {
    e.preventDefault(); sendRaw({ type: "email_followup", email: followup.elements.email.value.trim() });
  });
  var transcript = $(".transcript");
  transcript.addEventListener("submit", function (e) {
    e.preventDefault(); sendRaw({ type: "transcript", email: transcript.elements.email.value.trim() });
  });
  var wrap = $(".wrap"), log = $(".log"), statusEl = $(".status"), prechat = $(".prechat"), compose = $(".compose");

  $(".launcher").addEventListener("click", function () { wrap.classList.toggle("open"); render(); });
  prechat.addEventListener("submit", function (e) {
    e.preventDefault();
    var profile = { name: prechat.elements.name.value.trim(), email: prechat.elements.email.value.trim() };
    for (var i = 0; i < CONFIG.prechat.length; i++) if (!profile[CONFIG.prechat[i]]) return note(t("fill_" + CONFIG.prechat[i]), true);
    save({ profile: profile, prechatDone: true }); state.prechatDone = true;
    if (socket) socket.close(4999); else connect(); // hello again with the profile
    render();
  });
  compose.addEventListener("submit", function (e) {
    e.preventDefault();
    var body = compose.elements.body.value;
    if (!body.trim()) return;
    var item = { type: "message", client_id: Date.now().toString(36) + Math.random().toString(36).slice(2), body: body };
    outbox.push(item); compose.elements.body.value = ""; sendRaw(item); render();
  });
  compose.elements.body.addEventListener("input", function () {
    if (Date.now() - typingSent > 2000) { typingSent = Date.now(); sendRaw({ type: "typing" }); }
  });
  compose.elements.body.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); compose.requestSubmit(); }
  });

  function sendRaw(frame) { if (socket && socket.readyState === 1 && socket.ready) socket.send(JSON.stringify(frame)); }
  function note(text, error) { statusEl.textContent = text; statusEl.classList.toggle("error", !!error); }

  function addMessage(m) {
    for (var i = 0; i < state.messages.length; i++) if (state.messages[i].id === m.id) return;
    state.messages.push(m);
    outbox = outbox.filter(function (o) { return o.client_id !== m.client_id; });
  }

  function render() {
    var needPrechat = CONFIG.prechat.length > 0 && !state.prechatDone && !state.conversation;
    prechat.classList.toggle("hidden", !needPrechat);
    compose.classList.toggle("hidden", needPrechat || !!fatal);
    log.textContent = "";
    state.messages.concat(outbox.map(function (o) { return { from: "visitor", body: o.body, pending: true }; }))
      .forEach(function (m) {
        var div = document.createElement("div");
        div.className = "msg " + (m.from === "agent" ? "agent" : "visitor");
        div.textContent = m.body; if (m.pending) div.style.opacity = ".6";
        log.appendChild(div);
      });
    log.scrollTop = log.scrollHeight;
    transcript.classList.toggle("hidden", state.status !== "resolved" || !!state.transcriptTo);
    var offline = !state.available && state.status !== "assigned" && state.status !== "active";
    followup.classList.toggle("hidden", !(offline && state.email_followup && state.conversation && !state.followedUp));
    if (fatal) note(fatal, true);
    else if (state.transcriptTo) note(t("transcript_sent", { email: state.transcriptTo }));
    else if (state.followedUp) note(t("followed_up", { email: state.followedUp }));
    else if (offline) note(t("offline") + (state.email_followup ? " " + t("offline_email") : ""));
    else if (state.status === "resolved") note(t("resolved"));
    else note("");
    renderRating();
  }

  function renderRating() {
    var box = $(".rating"), r = state.rating;
    box.classList.toggle("hidden", !r); box.textContent = "";
    if (!r) return;
    box.appendChild(document.createTextNode(t("rate_question") + " "));
    var stars = document.createElement("span"); stars.className = "stars";
    for (var s = r.min; s <= r.max; s++) (function (score) {
      var b = document.createElement("button"); b.type = "button"; b.textContent = String(score);
      b.setAttribute("aria-label", t("rate", { score: score }));
      b.addEventListener("click", function () { sendRaw({ type: "rate", conversation: state.conversation, score: score }); });
      stars.appendChild(b);
    })(s);
    box.appendChild(stars);
  }

  function onFrame(f) {
    if (f.type === "welcome") {
      save({ token: f.token }); socket.ready = true; applyTexts(f.texts);
      outbox.forEach(sendRaw); // unconfirmed messages: stored once by their client_id
    } else if (f.type === "snapshot") {
      var d = f.data; state.messages = [];
      d.messages.forEach(addMessage);
      state.conversation = d.conversation; state.status = d.status; state.rating = d.rating; state.available = d.available;
      state.email_followup = d.email_followup;
    } else if (f.type === "event") {
      if (f.event === "message") addMessage(f.data);
      else if (f.event === "status") { state.status = f.data.status; state.conversation = f.data.conversation; state.rating = f.data.rating; }
      else if (f.event === "typing") showAgentTyping();
    } else if (f.type === "transcript") {
      state.transcriptTo = f.email;
    } else if (f.type === "email_followup") {
      state.followedUp = f.email;
    } else if (f.type === "error") {
      if (f.client_id) outbox = outbox.filter(function (o) { return o.client_id !== f.client_id; });
      if (f.code === "origin" || f.code === "unknown" || f.code === "identity") fatal = f.message;
      else note(f.message, true);
      if (!fatal) return;
    }
    render();
  }

  function showAgentTyping() {
    var el = $(".typing"); el.classList.remove("hidden");
    clearTimeout(agentTypingTimer); agentTypingTimer = setTimeout(function () { el.classList.add("hidden"); }, 4000);
  }

  function connect() {
    var s = load(); state.prechatDone = !!s.prechatDone;
    socket = new WebSocket(CONFIG.socket);
    socket.onopen = function () {
      retry = 0;
      socket.send(JSON.stringify({ type: "hello", token: s.token || null, identity: page.identity || null,
        profile: s.profile || { name: page.name || "", email: page.email || "" },
        language: page.language || navigator.language || "" }));
    };
    socket.onmessage = function (e) { try { onFrame(JSON.parse(e.data)); } catch (err) { /* ignore a bad frame */ } };
    socket.onclose = function (e) {
      socket = null;
      if (held) return;
      if (e.code === 4403 || e.code === 4404 || e.code === 4401) {
        fatal = fatal || t("unavailable"); render(); return;
      }
      setTimeout(connect, e.code === 4999 ? 0 : Math.min(30000, 500 * Math.pow(2, retry++)));
    };
  }
  // a mobile browser back from the background: ask again for what was missed
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { if (socket) sendRaw({ type: "resync" }); }
  });
  window.addEventListener("online", function () { if (!socket) connect(); });

  function start() { document.body.appendChild(host); render(); connect(); }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})(CONFIG);
