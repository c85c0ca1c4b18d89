# OSC 133 prompt/command marks for interactive bash >= 4.4, plus OSC 6973 carrying only the command word.
#
# Bytes per command line:  133;A <prompt> 133;B <typed line> 133;C 6973;argv0=<word> <output> 133;D;<exit>
# Inside tmux every mark is wrapped as a DCS passthrough (tmux.conf sets allow-passthrough), because tmux drops
# OSC 133 instead of forwarding it; the outer terminal then receives the plain mark.

if [[ -n ${TMUX:-} ]]; then
  __aether_osc_open='\ePtmux;\e\e]' __aether_osc_close='\a\e\\'
else
  __aether_osc_open='\e]' __aether_osc_close='\a'
fi
# Written in prompt-escape form: PS1/PS0 and printf both decode \e, \a and \\ the same way.
__aether_mark_a="${__aether_osc_open}133;A${__aether_osc_close}"
__aether_mark_b="${__aether_osc_open}133;B${__aether_osc_close}"
# PS0 is printed once per entered line (never for an empty Enter); the arithmetic in the empty array subscript arms
# the DEBUG trap and records that a command ran, without printing anything and without forking. It comes first
# because the mark's closing `\\` would escape a `$` that followed it.
__aether_ps0='${__aether_nil[__aether_armed=__aether_ran=1]}'"${__aether_osc_open}133;C${__aether_osc_close}"

__aether_precmd() {
  local status=$?  # first: the exit status of the command line that just finished
  if [[ -n ${__aether_ran-} ]]; then
    # shellcheck disable=SC2059  # the format is our own mark template
    printf "${__aether_osc_open}133;D;%s${__aether_osc_close}" "$status"
  fi
  __aether_ran='' __aether_armed=''
  # ~/.bashrc may set PS1/PS0 after this file ran, so the marks are (re)applied at each prompt.
  [[ $PS1 == *"$__aether_mark_a"* ]] || PS1="\\[${__aether_mark_a}\\]${PS1}\\[${__aether_mark_b}\\]"
  [[ $PS0 == *"$__aether_ps0"* ]] || PS0="${__aether_ps0}${PS0-}"
  trap '__aether_preexec' DEBUG
  return "$status"
}

# Reports the first word of the line (never its arguments) just before it runs. BASH_COMMAND is exact even for
# space-prefixed lines or with history off, where `history 1` would name the previous command.
__aether_preexec() {
  [[ -n ${__aether_armed-} && $BASH_COMMAND != __aether_* ]] || return 0
  __aether_armed=''
  trap - DEBUG  # only the line's first command: loops in the shell then run without a trap call per command
  local rest=$BASH_COMMAND word
  while :; do
    rest=${rest#"${rest%%[![:space:]]*}"}
    word=${rest%%[[:space:]]*}
    [[ $word =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || break  # skip `NAME=value` prefixes
    rest=${rest#"$word"}
  done
  word=${word##*/}
  [[ $word =~ ^[A-Za-z0-9._+-]{1,64}$ ]] || return 0  # quoted, expanded or odd words are not reported
  # shellcheck disable=SC2059
  printf "${__aether_osc_open}6973;argv0=%s${__aether_osc_close}" "$word"
}

if [[ $PROMPT_COMMAND != *__aether_precmd* ]]; then
  PROMPT_COMMAND="__aether_precmd${PROMPT_COMMAND:+; $PROMPT_COMMAND}"
fi
