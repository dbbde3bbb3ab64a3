# bash completion for argoctl: commands, options, and domain names and cable
# endpoints asked of the live daemon (argoctl __complete ...).
#   source <(argoctl completion bash)
_argoctl() {
  local cur=${COMP_WORDS[COMP_CWORD]}
  local -a global=() cmd=()
  local i w
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    case $w in
      --socket | --timeout)
        global+=("$w" "${COMP_WORDS[i + 1]}")
        ((i++))
        ;;
      --kind | --domain | --count | --for | --id | --memory | --label | --max | --cap | --verify)
        ((i++))
        ;;
      -*) ;;
      *) cmd+=("$w") ;;
    esac
  done
  local prev=${COMP_WORDS[COMP_CWORD - 1]}
  case $prev in
    --socket) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --domain) COMPREPLY=($(compgen -W "$(argoctl "${global[@]}" __complete domains)" -- "$cur")); return ;;
    --kind)
      COMPREPLY=($(compgen -W "domain_created domain_destroyed ring_registered ring_unregistered cable_changed policy_loaded access_denied guest_attached guest_detached domain_crashed" -- "$cur"))
      return ;;
    --cap) COMPREPLY=($(compgen -W "control hardware xenstore" -- "$cur")); return ;;
    --verify) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --timeout | --count | --for | --id | --memory | --label | --max) return ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(argoctl __complete options "${cmd[@]}")" -- "$cur"))
    return
  fi
  local words
  case "${cmd[0]}" in
    "") words=$(argoctl __complete commands) ;;
    domain)
      if ((${#cmd[@]} == 1)); then
        words="create destroy show token"
      elif [[ ${cmd[1]} != create ]] && ((${#cmd[@]} == 2)); then
        words=$(argoctl "${global[@]}" __complete domains)
      fi ;;
    policy)
      if ((${#cmd[@]} == 1)); then
        words="load show relabel audit modules module check why suggest"
      elif [[ ${cmd[1]} == load ]]; then
        COMPREPLY=($(compgen -f -- "$cur")); return
      elif [[ ${cmd[1]} == module ]] && ((${#cmd[@]} == 2)); then
        words="add enable disable"
      elif [[ ${cmd[1]} == module && ${cmd[2]} == add ]]; then
        COMPREPLY=($(compgen -f -- "$cur")); return
      elif [[ ${cmd[1]} == check ]] && ((${#cmd[@]} == 4)); then
        words="ENABLE REGISTER_SINGLE_SOURCE REGISTER_ANY_SOURCE SEND SEND_EXPLICIT"
      elif [[ ${cmd[1]} == check ]]; then
        words="$(argoctl "${global[@]}" __complete domains) xen"
      elif [[ ${cmd[1]} == relabel ]] && ((${#cmd[@]} == 2)); then
        words=$(argoctl "${global[@]}" __complete domains)
      fi ;;
    connect | disconnect | explain)
      words=$(argoctl "${global[@]}" __complete endpoints)
      compopt -o nospace 2>/dev/null ;;
    cables | rings)
      ((${#cmd[@]} == 1)) && words=$(argoctl "${global[@]}" __complete domains) ;;
    apply) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    completion) words="bash" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _argoctl argoctl
