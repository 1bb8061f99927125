/// The status page's live view: the page fetches itself every two seconds and puts the fresh
/// tables in place of the old ones — one renderer (the server's), the reader's scroll and
/// selection kept, and a line that says when the daemon stopped answering. Without
/// JavaScript the page reloads itself instead (`<noscript>` refresh).
enum LiveScript {
    static let path = "/live.js"

    static let source = """
    "use strict";
    (function () {
      const every = \(StatusPage.refreshSeconds * 1000);
      const freshness = document.getElementById("freshness");
      let silentSince = null;
      async function refresh() {
        try {
          // The page's own address without the user and password an address bar may
          // carry (fetch refuses those); the browser answers the challenge from memory.
          const answer = await fetch(location.origin + location.pathname, { cache: "no-store", credentials: "same-origin" });
          if (!answer.ok) throw new Error("HTTP " + answer.status);
          const page = new DOMParser().parseFromString(await answer.text(), "text/html");
          const fresh = page.getElementById("live");
          if (!fresh) throw new Error("not a status page");
          document.getElementById("live").replaceWith(fresh);
          silentSince = null;
          freshness.textContent = "live, updated " + new Date().toLocaleTimeString();
          freshness.className = "ok";
          document.body.dataset.updates = String(Number(document.body.dataset.updates || "0") + 1);
        } catch (e) {
          silentSince = silentSince || new Date();
          freshness.textContent = "the daemon has not answered since " + silentSince.toLocaleTimeString() + " (" + e.message + ")";
          freshness.className = "bad";
        }
        setTimeout(refresh, every);
      }
      setTimeout(refresh, every);
    })();

    """
}
