// Connected Accounts: list, connect, replace and disconnect provider keys through the aether API.
// A key typed here lives only in one local variable until its POST is sent: the input is cleared
// first, and nothing but the server's masked hint is ever written back to the page, storage,
// a URL or the console.

const TOKEN_STORAGE_KEY = "aether.access_token";
// The page is served at <api root>/settings/connected-accounts; relative URLs keep working behind
// an API Gateway stage prefix such as /api/.
const API_ROOT = new URL("../", document.baseURI);
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

class SignedOutError extends Error {}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Move a Supabase-style `#access_token=...` into sessionStorage and out of the address bar. */
function adoptTokenFromFragment() {
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const token = fragment.get("access_token");
  if (!token) return;
  sessionStorage.setItem(TOKEN_STORAGE_KEY, token);
  // Drop the whole fragment: it may also carry a refresh token, which this page never keeps.
  history.replaceState(null, "", window.location.pathname + window.location.search);
}

// An API message may name the JSON field ("the api_key field is required"); people know it as "the key field".
function sentence(text) {
  const trimmed = String(text).trim().replace(/\bthe api_key field\b/g, "the key field");
  const capitalised = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}

function errorMessage(status, payload) {
  if (status >= 500) return "Something went wrong on our side. Nothing was changed; please try again in a moment.";
  if (status === 403) return "Your account is not allowed to do this.";
  if (payload && typeof payload.Message === "string" && payload.Message) return sentence(payload.Message);
  return `The request was refused (HTTP ${status}). Nothing was changed.`;
}

async function api(method, path, body) {
  const token = sessionStorage.getItem(TOKEN_STORAGE_KEY);
  if (!token) throw new SignedOutError();
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(new URL(path, API_ROOT), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer",
    });
  } catch {
    throw new ApiError(0, "We couldn't reach aether. Check your connection and try again.");
  }
  if (response.status === 401) {
    sessionStorage.removeItem(TOKEN_STORAGE_KEY);
    throw new SignedOutError();
  }
  if (response.status === 204) return null;
  const payload = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, errorMessage(response.status, payload));
  return payload;
}

const pageStatus = document.getElementById("page-status");
const providerList = document.getElementById("providers");
const signIn = document.getElementById("sign-in");
const devSignIn = document.getElementById("dev-sign-in");
const confirmDialog = document.getElementById("confirm-disconnect");

function announce(text) {
  pageStatus.textContent = text;
}

function showSignedOut() {
  providerList.replaceChildren();
  providerList.setAttribute("aria-busy", "false");
  announce("");
  signIn.hidden = false;
  devSignIn.hidden = document.body.dataset.devSignIn !== "true";
}

/** One provider's card: its elements, its last known status from the API, and its behaviour. */
class ProviderCard {
  constructor(provider, status) {
    this.provider = provider;
    this.status = status;
    this.replacing = false;
    const node = document.getElementById("provider-card").content.firstElementChild.cloneNode(true);
    this.node = node;
    this.input = node.querySelector(".key-input");
    this.form = node.querySelector(".key-form");
    this.error = node.querySelector(".field-error");
    this.submit = node.querySelector(".submit");
    this.cancel = node.querySelector(".cancel");
    this.replace = node.querySelector(".replace");
    this.disconnect = node.querySelector(".disconnect");
    this.buttons = [this.submit, this.cancel, this.replace, this.disconnect];

    const id = provider.provider;
    node.id = `provider-${id}`;
    node.dataset.provider = id;
    node.setAttribute("aria-labelledby", `provider-${id}-name`);
    node.querySelector(".provider-name").id = `provider-${id}-name`;
    node.querySelector(".provider-name").textContent = provider.display_name;
    this.input.id = `key-${id}`;
    this.input.name = "api_key";
    this.error.id = `key-${id}-error`;
    node.querySelector(".console").id = `key-${id}-help`;
    this.input.setAttribute("aria-describedby", `${this.error.id} key-${id}-help`);
    const label = node.querySelector(".key-label");
    label.htmlFor = this.input.id;
    label.append("API key", Object.assign(document.createElement("span"), {
      className: "visually-hidden",
      textContent: ` for ${provider.display_name}`,
    }));
    const link = node.querySelector(".console-link");
    link.href = provider.console_url;
    link.textContent = new URL(provider.console_url).host;
    node.querySelector(".env-var").textContent = provider.env_var;
    this.disconnect.setAttribute("aria-label", `Disconnect ${provider.display_name}`);
    this.replace.setAttribute("aria-label", `Replace ${provider.display_name} key`);

    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    this.replace.addEventListener("click", () => this.startReplacing());
    this.cancel.addEventListener("click", () => this.stopReplacing());
    this.disconnect.addEventListener("click", () => this.confirmDisconnect());
    this.render();
  }

  get name() {
    return this.provider.display_name;
  }

  render() {
    const connected = Boolean(this.status.connected);
    this.node.classList.toggle("connected", connected);
    this.node.querySelector(".status-text").textContent = connected
      ? `Connected on ${dateFormat.format(new Date(this.status.added_at))}`
      : "Not connected";
    this.node.querySelector(".details").hidden = !connected;
    this.node.querySelector(".actions").hidden = !connected || this.replacing;
    this.form.hidden = connected && !this.replacing;
    this.cancel.hidden = !this.replacing;
    this.submit.textContent = this.replacing ? "Save new key" : "Connect";
    this.disconnect.textContent = "Disconnect";
    if (connected) {
      this.node.querySelector(".hint").textContent = this.status.hint || "hidden";
      this.node.querySelector(".last-used").textContent = this.status.last_used_at
        ? dateFormat.format(new Date(this.status.last_used_at))
        : "Not used yet";
    }
  }

  showError(message) {
    this.error.textContent = message;
    this.input.setAttribute("aria-invalid", message ? "true" : "false");
  }

  /** While a request runs: every control disabled and `button` saying what is happening. */
  setBusy(busy, button, label) {
    this.node.setAttribute("aria-busy", String(busy));
    this.input.disabled = busy;
    for (const each of this.buttons) each.disabled = busy;
    if (busy) button.textContent = label;
    else this.render();
  }

  startReplacing() {
    this.replacing = true;
    this.showError("");
    this.render();
    this.input.focus();
  }

  stopReplacing() {
    this.replacing = false;
    this.input.value = "";
    this.showError("");
    this.render();
    this.replace.focus();
  }

  async save() {
    const apiKey = this.input.value;
    this.input.value = "";
    if (!apiKey.trim()) {
      this.showError("Paste your API key into the field first.");
      this.input.focus();
      return;
    }
    this.showError("");
    this.setBusy(true, this.submit, this.replacing ? "Saving…" : "Connecting…");
    try {
      const saved = await api("POST", "user/api-keys", { provider: this.provider.provider, api_key: apiKey });
      this.status = { ...this.status, ...saved, connected: true };
      const replaced = this.replacing;
      this.replacing = false;
      this.setBusy(false);
      announce(replaced ? `${this.name} key replaced.` : `${this.name} connected.`);
      this.replace.focus();
    } catch (error) {
      this.setBusy(false);
      this.fail(error);
      this.input.focus();
    }
  }

  confirmDisconnect() {
    document.getElementById("confirm-title").textContent = `Disconnect ${this.name}?`;
    confirmDialog.returnValue = "";
    confirmDialog.addEventListener("close", () => {
      if (confirmDialog.returnValue === "disconnect") this.remove();
      else this.disconnect.focus();
    }, { once: true });
    confirmDialog.showModal();
  }

  async remove() {
    this.showError("");
    this.setBusy(true, this.disconnect, "Disconnecting…");
    try {
      await api("DELETE", `user/api-keys/${encodeURIComponent(this.provider.provider)}`);
      this.status = { provider: this.provider.provider, connected: false };
      this.setBusy(false);
      announce(`${this.name} disconnected.`);
      this.input.focus();
    } catch (error) {
      this.setBusy(false);
      this.fail(error);
      this.disconnect.focus();
    }
  }

  fail(error) {
    if (error instanceof SignedOutError) showSignedOut();
    else this.showError(error instanceof ApiError ? error.message : "Something went wrong. Please try again.");
  }
}

async function load() {
  signIn.hidden = true;
  providerList.setAttribute("aria-busy", "true");
  announce("Loading your connected accounts…");
  try {
    const [directory, keys] = await Promise.all([api("GET", "providers"), api("GET", "user/api-keys")]);
    const statuses = new Map(keys.providers.map((status) => [status.provider, status]));
    const cards = directory.providers.map(
      (provider) => new ProviderCard(provider, statuses.get(provider.provider) || { connected: false }),
    );
    providerList.replaceChildren(...cards.map((card) => card.node));
    providerList.setAttribute("aria-busy", "false");
    announce("");
  } catch (error) {
    if (error instanceof SignedOutError) showSignedOut();
    else {
      providerList.setAttribute("aria-busy", "false");
      announce(error instanceof ApiError ? error.message : "Something went wrong. Please reload the page.");
    }
  }
}

devSignIn.addEventListener("click", async () => {
  devSignIn.disabled = true;
  try {
    const response = await fetch(new URL("dev/token", API_ROOT), { method: "POST", cache: "no-store", credentials: "omit" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    sessionStorage.setItem(TOKEN_STORAGE_KEY, (await response.json()).access_token);
    await load();
  } catch {
    announce("Dev sign-in failed. Is the local server running?");
  } finally {
    devSignIn.disabled = false;
  }
});

adoptTokenFromFragment();
load();
