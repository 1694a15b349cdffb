# bash completion for flowlab (zsh: completions/_flowlab loads this through bashcompinit).
# Completes subcommands, each subcommand's options (read from its --help, so they never drift),
# spec files (*.yaml) and, after `run`/`sweep SPEC`, config-group overrides: `model=` offers the
# files in the nearest configs/model/.

_flowlab_subcommands() {
  # The subcommand names `flowlab --help` lists under "Subcommands:".
  "${1:-flowlab}" --help 2>/dev/null | awk '/^Subcommands:/{on=1; next} on && /^  [a-z]/{print $1}'
}

_flowlab_options() {
  "$1" "$2" --help 2>/dev/null | grep -oE '(^|[ ,])--?[a-zA-Z][a-zA-Z0-9-]*' | tr -d ' ,' | sort -u
}

# The configs/ folder nearest to the spec (searching upward, as flowlab does), else ./configs.
_flowlab_config_dir() {
  local dir
  dir=$(cd "$(dirname "${1:-.}")" 2>/dev/null && pwd) || dir=$PWD
  while [ -n "$dir" ]; do
    [ -d "$dir/configs" ] && { echo "$dir/configs"; return; }
    [ "$dir" = / ] && break
    dir=$(dirname "$dir")
  done
  [ -d configs ] && echo "$PWD/configs"
}

_flowlab() {
  local cur=${COMP_WORDS[COMP_CWORD]} prog=${COMP_WORDS[0]} sub="" spec="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
      -*) ;;
      *) if [ -z "$sub" ]; then sub=${COMP_WORDS[i]}; elif [ -z "$spec" ]; then spec=${COMP_WORDS[i]}; fi ;;
    esac
  done
  if [ -z "$sub" ]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_flowlab_subcommands "$prog") --help --version --workspace --store --wide" -- "$cur")
    return
  fi
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_flowlab_options "$prog" "$sub")" -- "$cur")
    return
  fi
  case $sub in
    run | sweep)
      if [ -z "$spec" ]; then
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -X '!*.y*ml' -- "$cur"; compgen -d -- "$cur")
        return
      fi
      local configs group
      configs=$(_flowlab_config_dir "$spec")
      if [[ $cur == *=* ]]; then
        group=${cur%%=*}
        if [ -n "$configs" ] && [ -d "$configs/$group" ]; then
          local options
          options=$(cd "$configs/$group" && ls -- *.yaml 2>/dev/null | sed 's/\.yaml$//')
          mapfile -t COMPREPLY < <(compgen -P "$group=" -W "$options" -- "${cur#*=}")
        fi
      elif [ -n "$configs" ]; then
        mapfile -t COMPREPLY < <(compgen -S = -W "$(cd "$configs" && ls -d -- */ 2>/dev/null | tr -d /)" -- "$cur")
        compopt -o nospace 2>/dev/null
      fi
      ;;
    show | compare | resume | delete | restore | tag | export)
      mapfile -t COMPREPLY < <(compgen -W "last" -- "$cur")
      ;;
  esac
}
complete -F _flowlab flowlab
