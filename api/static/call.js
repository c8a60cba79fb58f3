// The call page: anything with data-seek moves the player there; the word being said lights up.
(() => {
  "use strict";
  const player = document.getElementById("player");
  if (!player) return;
  const words = Array.from(document.querySelectorAll(".w"));
  const starts = words.map((w) => parseFloat(w.dataset.s));
  const follow = document.getElementById("follow");
  let current = null;

  function seek(seconds) {
    player.currentTime = seconds;
    const playing = player.play();
    if (playing) playing.catch(() => {}); // autoplay may be refused; the position still moved
    light(seconds);
  }

  // "Where the player is": the moment of an objection a reviewer adds, as m:ss.t.
  document.addEventListener("click", (event) => {
    const now = event.target.closest("[data-now]");
    if (!now) return;
    const t = player.currentTime;
    const seconds = (t % 60).toFixed(1).padStart(4, "0");
    now.form.elements.at.value = `${Math.floor(t / 60)}:${seconds}`;
  });

  document.addEventListener("click", (event) => {
    const target = event.target.closest("[data-seek], .w");
    if (!target) return;
    seek(parseFloat(target.dataset.seek ?? target.dataset.s));
  });

  // The last word that started at or before t, if t is still within it (or a short pause after it).
  function wordAt(t) {
    let lo = 0, hi = starts.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= t) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    if (found < 0) return null;
    const word = words[found];
    return t <= parseFloat(word.dataset.e) + 0.3 ? word : null;
  }

  function light(t) {
    const word = wordAt(t);
    if (word === current) return;
    if (current) current.classList.remove("now");
    current = word;
    if (!word) return;
    word.classList.add("now");
    if (follow && follow.checked && !player.paused) {
      const box = word.getBoundingClientRect();
      if (box.top < 0 || box.bottom > window.innerHeight) word.scrollIntoView({ block: "center" });
    }
  }

  let frame = 0;
  function tick() {
    light(player.currentTime);
    frame = player.paused ? 0 : requestAnimationFrame(tick);
  }
  player.addEventListener("play", () => { if (!frame) frame = requestAnimationFrame(tick); });
  player.addEventListener("seeked", () => light(player.currentTime));
  player.addEventListener("timeupdate", () => light(player.currentTime));

  // Speed, 5-second skips and keys, made here: without the script the player's own controls remain.
  const controls = document.createElement("div");
  controls.className = "controls";
  controls.innerHTML =
    '<label>Speed <select id="speed"><option>1</option><option>1.25</option><option>1.5</option><option>2</option></select></label>' +
    '<button type="button" id="back5" aria-label="Back 5 seconds">−5 s</button>' +
    '<button type="button" id="ahead5" aria-label="Ahead 5 seconds">+5 s</button>';
  const keys = document.createElement("p");
  keys.className = "keys";
  keys.innerHTML = "Keys: <kbd>space</kbd> play or pause, <kbd>←</kbd> <kbd>→</kbd> 5 s, " +
    "<kbd>j</kbd> <kbd>k</kbd> next and previous mistake";
  player.after(controls, keys);
  document.getElementById("speed").addEventListener("change", (event) => {
    player.playbackRate = parseFloat(event.target.value);
  });
  function skip(seconds) {
    player.currentTime = Math.max(0, player.currentTime + seconds);
    light(player.currentTime);
  }
  document.getElementById("back5").addEventListener("click", () => skip(-5));
  document.getElementById("ahead5").addEventListener("click", () => skip(5));

  // The next or previous mistake from where the player is (j, k).
  function mistake(direction) {
    const times = Array.from(document.querySelectorAll(".mistakes .seek"), (b) => parseFloat(b.dataset.seek))
      .sort((a, b) => a - b);
    const now = player.currentTime;
    const found = direction > 0 ? times.find((t) => t > now + 0.5) : times.reverse().find((t) => t < now - 1);
    if (found !== undefined) seek(found);
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const typing = event.target.closest("input, textarea, select, [contenteditable]");
    if (typing) return;
    if (event.key === " " && !event.target.closest("button, a")) {
      event.preventDefault();
      if (player.paused) { const p = player.play(); if (p) p.catch(() => {}); } else player.pause();
    } else if (event.key === "ArrowLeft") { event.preventDefault(); skip(-5); }
    else if (event.key === "ArrowRight") { event.preventDefault(); skip(5); }
    else if (event.key === "j") mistake(1);
    else if (event.key === "k") mistake(-1);
    else if (event.key === "f") document.querySelector("form.finish")?.requestSubmit();
  });

  // Enter in a verdict's comment box would send the form with its first button: never a verdict
  // picked by a key meant to end a line.
  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.matches("form.verdict input[name=comment]")) event.preventDefault();
  });

  // A verdict is saved without leaving the page: the form is sent as it would be, and the parts
  // it changes (score, checklist, objections, mistakes, history) come from the page sent back.
  // Verdicts are sent one after another, in the order given: a second click while the first is
  // saved waits for it, and both count. The item's own buttons wait meanwhile (no double verdict).
  let sending = Promise.resolve();
  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form.verdict");
    if (!form) return;
    event.preventDefault();
    const body = new URLSearchParams(new FormData(form, event.submitter));
    const target = form.querySelector("input[name=target]").value;
    form.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    form.setAttribute("aria-busy", "true");
    sending = sending.then(() => save(form, body, target));
  });

  async function save(form, body, target) {
    try {
      const response = await fetch(form.action, { method: "POST", body, credentials: "same-origin" });
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
      if (!response.ok) throw new Error(fresh.querySelector(".error, main")?.textContent || response.statusText);
      document.querySelector(".call-head").replaceWith(fresh.querySelector(".call-head"));
      document.querySelector("header.top nav").replaceWith(fresh.querySelector("header.top nav")); // the disputes count
      document.querySelectorAll("aside.side > section").forEach((old) => {
        const label = old.getAttribute("aria-labelledby");
        const update = fresh.querySelector(`aside.side > section[aria-labelledby="${label}"]`);
        if (update) old.replaceWith(update);
      });
      const history = fresh.querySelector('aside.side > section[aria-labelledby="history-h"]');
      if (history && !document.getElementById("history-h")) document.querySelector("aside.side").append(history);
      // "Saved" beside the item, where the reviewer is looking, not at the top of the page.
      const saved = fresh.querySelector(".notice")?.textContent || "Saved";
      const item = [...document.querySelectorAll("form.verdict input[name=target]")].find((i) => i.value === target);
      document.querySelectorAll(".saved").forEach((old) => old.remove());
      if (item) {
        const note = document.createElement("span");
        note.className = "saved";
        note.setAttribute("role", "status");
        note.textContent = saved;
        item.closest("form").append(note);
      } else say(saved);
    } catch (error) {
      say(String(error.message || error), true);
      form.querySelectorAll("button").forEach((b) => { b.disabled = false; });
      form.removeAttribute("aria-busy");
    }
  }

  function say(text, failed) {
    let notice = document.querySelector("main > .notice, main > .error");
    if (!notice) {
      notice = document.createElement("p");
      document.querySelector("main").prepend(notice);
    }
    notice.className = failed ? "error" : "notice";
    notice.setAttribute("role", "status");
    notice.textContent = text;
  }

  // A link to a moment (/calls/7#t=12.5, from the leads page or an export) starts there when
  // played; nothing is fetched before (preload none: the access log counts plays).
  const moment = /^#t=([\d.]+)$/.exec(location.hash);
  if (moment) {
    player.currentTime = parseFloat(moment[1]);
    light(parseFloat(moment[1]));
  }
})();
