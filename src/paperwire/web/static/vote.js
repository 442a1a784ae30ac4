// paperwire: upvote buttons update in place. The buttons are plain forms that work without
// this script; it only turns a submit into a fetch of the form's JSON twin (data-api).
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (!meta || !window.fetch) return;

  function show(form, state) {
    var voted = Boolean(state.voted);
    form.classList.toggle("voted", voted);
    form.elements.action.value = voted ? "down" : "up";
    var button = form.querySelector(".vote-button");
    button.setAttribute("aria-pressed", voted ? "true" : "false");
    button.title = voted ? "Withdraw your upvote" : "Upvote";
    form.querySelector(".count").textContent = String(state.upvotes);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains("vote-form")) return;
    event.preventDefault();
    if (form.dataset.busy) return; // a double click sends one request
    form.dataset.busy = "1";
    var up = form.elements.action.value === "up";
    fetch(form.dataset.api, {
      method: up ? "POST" : "DELETE",
      headers: { "X-CSRF-Token": meta.content, Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (state) {
        // the same paper may be shown more than once on a page
        document.querySelectorAll("form.vote-form").forEach(function (other) {
          if (other.dataset.api === form.dataset.api) show(other, state);
        });
      })
      .catch(function () {
        // let the plain form answer instead: it shows the server's message (e.g. a 429)
        form.submit();
      })
      .finally(function () {
        delete form.dataset.busy;
      });
  });
})();
