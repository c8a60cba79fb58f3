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

  // A link to a moment (/calls/7#t=12.5, from the leads page or an export) starts there when
  // played; nothing is fetched before (preload none: the access log counts plays).
  const moment = /^#t=([\d.]+)$/.exec(location.hash);
  if (moment) {
    player.currentTime = parseFloat(moment[1]);
    light(parseFloat(moment[1]));
  }
})();
