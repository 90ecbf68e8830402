"use strict";
// Sign in: POST the key once; the server answers with an HttpOnly, SameSite=Strict session cookie.
document.getElementById("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const error = document.getElementById("login-error");
  error.textContent = "";
  const key = document.getElementById("key").value;
  try {
    const reply = await fetch("/v1/admin/session", {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({key}),
      credentials: "same-origin",
    });
    if (reply.ok) { location.href = "/"; return; }
    const problem = await reply.json().catch(() => ({}));
    error.textContent = problem.detail || `sign-in refused (${reply.status})`;
  } catch (e) {
    error.textContent = "the console did not answer";
  }
});
