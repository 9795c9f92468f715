// The console's only script: plain JavaScript, no framework, loaded with `defer` (the CSP forbids
// inline scripts). Every page works without it; it adds confirmations, busy buttons, drag-and-drop
// upload with checks, and the live views: stack events and the log tail over Server-Sent Events.
"use strict";

(function () {
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // --- forms: confirmations and busy buttons ---------------------------------------------------
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    if (form.dataset.busy !== undefined && !event.defaultPrevented) {
      const submitter = event.submitter;
      window.setTimeout(() => {
        form.querySelectorAll('button[type="submit"]').forEach((button) => { button.disabled = true; });
        if (submitter && form.dataset.busy) submitter.textContent = form.dataset.busy;
      }, 0);
    }
  });

  // --- images: a broken thumbnail says so ---------------------------------------------------------
  document.querySelectorAll("img[data-fallback]").forEach((img) => {
    const replace = () => img.replaceWith(el("span", "muted", img.dataset.fallback));
    if (img.complete && img.naturalWidth === 0 && img.src) replace();
    else img.addEventListener("error", replace, { once: true });
  });

  // --- images: upload with client-side checks and drag-and-drop ---------------------------------
  document.querySelectorAll("form.upload").forEach((form) => {
    const input = form.querySelector('input[type="file"]');
    const drop = form.querySelector(".drop");
    const text = form.querySelector(".drop-text");
    const errorBox = document.getElementById("upload-error");
    const maxBytes = Number(form.dataset.maxBytes || 0);
    const accepted = (form.dataset.accept || "").split(",");

    const showError = (message) => {
      if (!errorBox) return;
      errorBox.textContent = message;
      errorBox.classList.toggle("hidden", !message);
    };
    const check = (file) => {
      if (!file) return "Choose a file first.";
      if (accepted.length && !accepted.includes(file.type)) {
        return `${file.name} is ${file.type || "not an image"}: upload a ${form.dataset.accepted || "supported image"}.`;
      }
      if (maxBytes && file.size > maxBytes) {
        return `${file.name} is ${file.size.toLocaleString()} bytes, over the ${maxBytes.toLocaleString()}-byte limit.`;
      }
      return "";
    };
    const chosen = () => {
      const file = input.files[0];
      if (file && text) text.textContent = `${file.name} (${file.size.toLocaleString()} bytes)`;
      showError(file ? check(file) : "");
    };
    input.addEventListener("change", chosen);
    ["dragenter", "dragover"].forEach((name) => drop.addEventListener(name, (event) => {
      event.preventDefault();
      drop.classList.add("over");
    }));
    ["dragleave", "drop"].forEach((name) => drop.addEventListener(name, () => drop.classList.remove("over")));
    drop.addEventListener("drop", (event) => {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        chosen();
      }
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const problem = check(input.files[0]);
      const buttons = form.querySelectorAll('button[type="submit"]');
      showError(problem);
      if (problem) return;
      buttons.forEach((b) => { b.disabled = true; });
      try {
        const reply = await fetch(form.action, {
          method: "POST",
          body: new FormData(form),
          headers: { "X-CSRF-Token": csrf(), Accept: "application/json" },
          credentials: "same-origin",
        });
        const data = await reply.json().catch(() => ({}));
        if (reply.ok) {
          // the page to show next names what a replacing upload removed and invalidated
          window.location.assign(data.next || `/images?uploaded=${encodeURIComponent(data.key || "")}`);
          return;
        }
        showError([data.message || `upload failed (${reply.status})`, data.hint].filter(Boolean).join(": "));
      } catch (error) {
        showError(`upload failed: ${error}`);
      }
      buttons.forEach((b) => { b.disabled = false; });
    });
  });

  // --- destroy: the bucket confirmation only when deleting the images ------------------------------
  document.querySelectorAll("input[data-toggles]").forEach((box) => {
    const target = document.getElementById(box.dataset.toggles);
    const field = target && target.querySelector("input");
    const sync = () => {
      target.classList.toggle("hidden", !box.checked);
      if (field) field.required = box.checked;
    };
    box.addEventListener("change", sync);
    sync();
  });

  // --- deploy and destroy: stack events over SSE --------------------------------------------------
  function eventRow(e) {
    const row = el("tr", e.failed ? "failed" : "");
    row.appendChild(el("td", "nowrap", (e.time || "").slice(11, 19)));
    row.appendChild(el("td", "", e.logical_id));
    row.appendChild(el("td", "muted", e.resource_type));
    const cell = el("td");
    cell.appendChild(el("span", `status ${statusClass(e.status)}`, e.status));
    row.appendChild(cell);
    row.appendChild(el("td", "", e.reason));
    return row;
  }

  function statusClass(status) {
    for (const [word, css] of [["FAILED", "bad"], ["ROLLBACK", "warn"], ["COMPLETE", "good"], ["PROGRESS", "busy"]]) {
      if ((status || "").includes(word)) return css;
    }
    return "";
  }

  function banner(final, verb) {
    if (final.ok) {
      const box = el("div", "alert good");
      box.setAttribute("role", "status");
      box.appendChild(el("strong", "", verb));
      box.appendChild(document.createTextNode(`: stack ${final.stack} is ${final.status}.`));
      return box;
    }
    const box = el("div", "alert bad");
    box.setAttribute("role", "alert");
    const head = el("p");
    head.appendChild(el("strong", "", "Failed"));
    head.appendChild(document.createTextNode(
      `${final.status ? ` (${final.status})` : ""}${final.error ? `: ${final.error.message}` : ""}`));
    box.appendChild(head);
    const error = final.error || {};
    const cause = final.root_cause;
    if (error.resource || cause) {
      const line = el("p", "cause", "Root cause: ");
      line.appendChild(el("code", "", error.resource || cause.logical_id));
      line.appendChild(document.createTextNode(`: ${error.resource ? error.reason : cause.reason}`));
      box.appendChild(line);
    }
    if (error.hint) box.appendChild(el("p", "hint", error.hint));
    return box;
  }

  document.querySelectorAll("[data-run-stream]").forEach((section) => {
    if (section.dataset.runDone === "true" || !window.EventSource) return;
    const rows = section.querySelector(".run-events");
    const removed = section.querySelector(".removed");
    const state = section.querySelector(".run-state");
    const verb = section.dataset.runVerb || "Done";
    rows.textContent = "";
    removed.textContent = "";
    state.replaceChildren(el("p", "busy", "Working: events appear as CloudFormation reports them."));
    const source = new EventSource(section.dataset.runStream);
    source.addEventListener("stack_event", (m) => rows.appendChild(eventRow(JSON.parse(m.data))));
    source.addEventListener("removed", (m) => removed.appendChild(el("li", "", `Removed ${JSON.parse(m.data).what}`)));
    source.addEventListener("settled", (m) => {
      source.close();
      section.dataset.runDone = "true";
      state.replaceChildren(banner(JSON.parse(m.data), verb));
    });
    source.addEventListener("error", () => {
      if (section.dataset.runDone !== "true") {
        state.replaceChildren(el("p", "busy", "Connection lost: reconnecting…"));
      }
    });
  });

  // --- logs: live tail, grouped by request, with pause/resume ---------------------------------------
  document.querySelectorAll("[data-log-stream]").forEach((section) => {
    if (!window.EventSource) return;
    const view = section.querySelector(".log-view");
    const state = section.querySelector(".log-state");
    const pause = section.querySelector("[data-log-pause]");
    const resume = section.querySelector("[data-log-resume]");
    const clear = section.querySelector("[data-log-clear]");
    const open = new Map(); // function|log stream -> id of the request open in it
    const seen = new Set();
    let paused = false;
    let waiting = [];
    let count = 0;

    const lineNode = (line) => {
      const node = el("div", `line${line.level === "ERROR" ? " error" : line.level.startsWith("WARN") ? " warn" : ""}${line.marker ? " marker" : ""}`);
      node.appendChild(el("time", "", (line.time || "").slice(11, 23)));
      if (line.function) node.appendChild(el("span", `fn fn-${line.function}`, line.function));
      node.appendChild(el("span", "msg", line.message));
      return node;
    };

    // Lines are grouped by request id: the runtime's START/END/REPORT lines carry it, the function's
    // JSON lines have request_id; other lines join the request open in their log stream. Lines
    // logged in the same millisecond may arrive in any order, so START is put first in its group.
    const groups = new Map(); // request id -> { group, summary, body }
    const groupFor = (id) => {
      if (!groups.has(id)) {
        const group = el("details", "request");
        group.open = true;
        const summary = el("summary", "", `request ${id}`);
        const body = el("div", "lines");
        group.append(summary, body);
        view.appendChild(group);
        groups.set(id, { group, summary, body });
      }
      return groups.get(id);
    };

    const render = (line) => {
      const nearBottom = view.scrollHeight - view.scrollTop - view.clientHeight < 40;
      const marker = line.marker;
      const where = `${line.function || ""}|${line.stream}`;
      const id = line.request || open.get(where) || "";
      const node = lineNode(line);
      if (!id) {
        view.appendChild(node);
      } else {
        const current = groupFor(id);
        if (marker && marker[0] === "START") {
          current.body.prepend(node);
          open.set(where, id);
        } else {
          current.body.appendChild(node);
        }
        if (marker && marker[0] === "REPORT") {
          const figures = (line.message.match(/Duration: [\d.]+ ms/) || [""])[0];
          current.summary.textContent = `request ${id}${figures ? ` · ${figures}` : ""}`;
          if (open.get(where) === id) open.delete(where);
        }
        if (line.level === "ERROR") current.group.classList.add("has-error");
      }
      count += 1;
      while (view.childElementCount > 1000) {
        const first = view.firstElementChild;
        for (const [key, value] of groups) if (value.group === first) groups.delete(key);
        first.remove();
      }
      if (nearBottom) view.scrollTop = view.scrollHeight;
    };

    const showState = () => {
      state.textContent = paused ? `paused: ${waiting.length} new line(s) waiting` : `live · ${count} line(s)`;
    };

    const source = new EventSource(section.dataset.logStream);
    source.addEventListener("open", showState);
    source.addEventListener("line", (m) => {
      const line = JSON.parse(m.data);
      const key = line.id || `${line.function || ""}|${line.stream}|${line.time}|${line.message}`;
      if (seen.has(key)) return;
      seen.add(key);
      if (paused) waiting.push(line);
      else render(line);
      showState();
    });
    source.addEventListener("sampled", (m) => {
      section.querySelector("[data-log-sampled]").hidden = !JSON.parse(m.data).sampled;
    });
    source.addEventListener("failure", (m) => {
      const data = JSON.parse(m.data);
      const box = el("div", "alert bad", [data.message, data.hint].filter(Boolean).join(": "));
      box.setAttribute("role", "alert");
      view.appendChild(box);
    });
    source.addEventListener("end", () => {
      source.close();
      state.textContent = `stream ended · ${count} line(s)`;
    });
    source.addEventListener("error", () => {
      if (source.readyState !== EventSource.CLOSED) state.textContent = "connection lost: reconnecting…";
    });
    pause.addEventListener("click", () => {
      paused = true;
      pause.disabled = true;
      resume.disabled = false;
      resume.focus();
      showState();
    });
    resume.addEventListener("click", () => {
      paused = false;
      waiting.forEach(render);
      waiting = [];
      resume.disabled = true;
      pause.disabled = false;
      pause.focus();
      showState();
    });
    clear.addEventListener("click", () => {
      view.textContent = "";
      open.clear();
      groups.clear();
      waiting = [];
      count = 0;
      showState();
    });
  });
})();
