// Two helpers for the reader's view of the text:
// - the follower keeps the sentence being read in view, but never fights the reader's own
//   scrolling: once they scroll it out of sight, it stops following and shows a
//   "Back to the current sentence" button instead;
// - the line-focus mask dims the page above and below the lines being read.

const root = document.documentElement;

export function createFollower({ player, backButton, fallbackFocus, reduceMotion }) {
  let following = true;
  let active = false; // a sentence is being read, or reading is paused in one
  let current = null;
  let autoUntil = 0; // scroll events before this time are ours, not the reader's

  // The sticky player covers the top of the viewport; what is under it is not "in view".
  function topEdge() {
    if (getComputedStyle(player).position !== "sticky") return 0;
    return Math.max(0, player.getBoundingClientRect().bottom);
  }

  // On phones and when zoomed in, the player sits at the bottom instead.
  function bottomEdge() {
    if (getComputedStyle(player).position !== "fixed") return window.innerHeight;
    return Math.min(window.innerHeight, player.getBoundingClientRect().top);
  }

  function inView(el, wholly) {
    const r = el.getBoundingClientRect();
    const top = topEdge();
    const bottom = bottomEdge();
    if (!wholly) return r.bottom > top && r.top < bottom;
    if (r.height > bottom - top) return r.top >= top && r.top < (top + bottom) / 2;
    return r.top >= top && r.bottom <= bottom;
  }

  function scrollTo(el) {
    const smooth = !reduceMotion.matches;
    autoUntil = performance.now() + (smooth ? 1500 : 250);
    el.scrollIntoView({ block: "center", behavior: smooth ? "smooth" : "auto" });
  }

  function setFollowing(on) {
    following = on;
    if (on === backButton.hidden) return;
    if (on) {
      // Hiding a focused button would drop focus on <body>: hand it to the player.
      const hadFocus = document.activeElement === backButton;
      backButton.hidden = true;
      if (hadFocus) fallbackFocus.focus();
    } else {
      backButton.hidden = false;
    }
  }

  window.addEventListener("scroll", () => {
    if (!active || !current || performance.now() < autoUntil) return;
    const seen = inView(current, false);
    if (following && !seen) setFollowing(false);
    else if (!following && seen && document.activeElement !== backButton) setFollowing(true);
  }, { passive: true });
  window.addEventListener("scrollend", () => { autoUntil = 0; });

  backButton.addEventListener("click", () => {
    setFollowing(true);
    if (current) scrollTo(current);
  });

  return {
    // A new current sentence. `jump`: the reader asked to go there, so follow again.
    show(el, { jump = false } = {}) {
      current = el;
      active = true;
      if (jump) setFollowing(true);
      if (following && !inView(el, true)) scrollTo(el);
    },
    // Nothing is being read any more (finished): nothing to go back to.
    release() {
      active = false;
      setFollowing(true);
    },
  };
}

export function createLineFocus(target) {
  const mask = document.createElement("div");
  mask.className = "focus-mask";
  mask.setAttribute("aria-hidden", "true");
  mask.hidden = true;
  const above = document.createElement("div");
  above.className = "focus-mask-above";
  const below = document.createElement("div");
  below.className = "focus-mask-below";
  mask.append(above, below);
  document.body.append(mask);

  let frame = 0;
  function draw() {
    const el = target();
    mask.hidden = root.dataset.lineFocus !== "on" || !el;
    if (mask.hidden) return;
    const rects = Array.from(el.getClientRects());
    if (!rects.length) return;
    const pad = 6;
    const top = Math.min(...rects.map((r) => r.top)) - pad;
    const bottom = Math.max(...rects.map((r) => r.bottom)) + pad;
    // CSSOM, not a style attribute: the Content-Security-Policy allows this.
    above.style.height = `${Math.max(0, top)}px`;
    below.style.top = `${Math.max(0, bottom)}px`;
  }
  function update() {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(draw);
  }
  window.addEventListener("scroll", update, { passive: true });
  window.addEventListener("resize", update);
  return { update };
}

export function initHelp({ dialog, openButton, closeButton }) {
  let opener = null;
  function open() {
    if (dialog.open) return;
    opener = document.activeElement;
    dialog.showModal();
  }
  openButton.addEventListener("click", open);
  closeButton.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    // Back where the reader was, even if the browser put focus on <body>.
    if (opener && opener !== document.body && document.contains(opener)) opener.focus();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "?" || event.ctrlKey || event.altKey || event.metaKey) return;
    if (event.defaultPrevented || isEditable(event.target)) return;
    event.preventDefault();
    open();
  });
}

export function isEditable(el) {
  if (!(el instanceof Element)) return false;
  if (el.isContentEditable) return true;
  if (el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement) return true;
  if (!(el instanceof HTMLInputElement)) return false;
  return !["button", "checkbox", "radio", "submit", "reset", "range", "color", "file", "image"]
    .includes(el.type);
}
