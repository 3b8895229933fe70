// Progressive enhancement only: every page works without this file.
"use strict";

// A live character count for text areas that name their counter (data-counter).
function count(area) {
  const counter = document.getElementById(area.dataset.counter);
  const left = Number(area.getAttribute("maxlength")) - [...area.value].length;
  counter.textContent = `${left} characters left`;
  counter.classList.toggle("over", left < 0);
}
document.addEventListener("input", (event) => {
  if (event.target.matches("textarea[data-counter]")) count(event.target);
});
document.querySelectorAll("textarea[data-counter]").forEach(count);

// Forms that name a part of the page (data-replace) are sent in the background: the server
// answers with that part re-rendered (a post card with its new like count, a thread with the
// new comment), or with an error sentence shown beside the form. Nothing reloads.
document.addEventListener("submit", async (event) => {
  const form = event.target;
  const target = form.dataset.replace;
  if (!target || !window.fetch) return;
  event.preventDefault();
  const button = form.querySelector("[type=submit]");
  button.disabled = true;
  let response;
  try {
    response = await fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: { "X-Fragment": "1" },
      credentials: "same-origin",
    });
  } catch {
    button.disabled = false;
    form.submit(); // offline for a moment: the ordinary way says what happened
    return;
  }
  if (response.redirected) { // e.g. signed out meanwhile: go where the server says
    window.location.assign(response.url);
    return;
  }
  const html = await response.text();
  const old = document.getElementById(target);
  if (response.ok && old) {
    old.insertAdjacentHTML("afterend", html);
    old.remove();
    const fresh = document.getElementById(target);
    fresh.querySelectorAll("textarea[data-counter]").forEach(count);
    fresh.querySelector(form.dataset.focus || "button")?.focus();
  } else {
    button.disabled = false;
    form.parentElement.querySelector(":scope > [data-error]")?.remove();
    form.insertAdjacentHTML("beforebegin", html);
  }
});

// The unread badge, live: one event per new notification on the server's stream.
const live = document.querySelector("[data-live]");
const badge = document.getElementById("unread");
if (live && badge && window.EventSource) {
  const source = new EventSource(live.dataset.live);
  source.addEventListener("notification", (event) => {
    const number = badge.querySelector(".n");
    const unread = (Number.parseInt(number.textContent, 10) || 0) + 1;
    number.textContent = unread > 99 ? "99+" : String(unread);
    badge.hidden = false;
    showOnList(JSON.parse(event.data));
  });
  source.addEventListener("end", () => source.close()); // signed out: no reconnecting
}

// On the notifications page, a new one goes on top of the list (as text, never markup).
function showOnList(item) {
  const list = document.getElementById("notification-list");
  if (!list) return;
  document.getElementById("no-notifications")?.remove();
  const entry = document.createElement("li");
  entry.className = "card unread";
  entry.id = `notification-${item.id}`;
  const fresh = document.createElement("strong");
  fresh.className = "new";
  fresh.textContent = "New";
  const actor = document.createElement("a");
  actor.href = `/@${encodeURIComponent(item.actor.username)}`;
  actor.textContent = `@${item.actor.username}`;
  entry.append(fresh, " ", actor, " ", item.content.slice(item.actor.username.length + 1));
  list.prepend(entry);
}
