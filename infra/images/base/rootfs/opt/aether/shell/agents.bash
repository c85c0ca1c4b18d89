# Wrappers for the agent CLIs: a one-line hint when the provider's key isn't connected, and workspace trust for the
# launch directory; then the real CLI runs with the same arguments.

__aether_run_agent() {
  local key_name=$1 provider=$2 agent=$3
  shift 3
  if [[ -z ${!key_name:-} ]]; then
    printf 'aether: no %s API key connected - connect one in Settings → Connected Accounts%s\n' \
      "$provider" "${AETHER_SETTINGS_URL:+ ($AETHER_SETTINGS_URL)}" >&2
  fi
  "${AETHER_ROOT:-}/opt/aether/bin/aether-agent-setup" trust "$PWD" || true
  command "$agent" "$@"
}

claude() { __aether_run_agent ANTHROPIC_API_KEY Anthropic claude "$@"; }
codex() { __aether_run_agent OPENAI_API_KEY OpenAI codex "$@"; }
gemini() { __aether_run_agent GEMINI_API_KEY Gemini gemini "$@"; }
