#!/usr/bin/env bash
# A zero-downtime release on one machine (docs/deploy.md#2-a-release):
#
#   deploy/release.sh [--home /srv/portal] [--repo URL_OR_PATH] [--ref REF] [--venv DIR] [--keep 5]
#
# 1. checks out REF into a fresh directory HOME/releases/<time>-<commit> and gives it its own virtualenv
#    (pip install of the pinned requirements.txt; --venv DIR links a virtualenv built elsewhere instead);
# 2. with the machine's environment (HOME/portal.env, KEY=value lines), runs there: check --deploy, compilemessages,
#    collectstatic, migrate;
# 3. points HOME/current at it (an atomic rename), then, if gunicorn runs (GUNICORN_PIDFILE in portal.env), sends its
#    master USR2: gunicorn starts a second master from HOME/current, with the new code and the same listening
#    socket, while the old workers go on serving. Once every new worker is up, the old master gets TERM and its
#    workers finish the requests they hold (GUNICORN_GRACEFUL_TIMEOUT). No connection is refused meanwhile.
#    If the new master does not come up, HOME/current goes back and the old one keeps serving.
#
# gunicorn must be started as
#   cd HOME/current && PWD=HOME/current HOME/current/.venv/bin/python HOME/current/.venv/bin/gunicorn --config gunicorn.conf.py
# (the portal-web.service of docs/deploy.md does): USR2 re-executes that same interpreter and script in that same
# directory, all through the `current` link, so the new master gets the new release's virtualenv and code.
# `.venv/bin/gunicorn` alone would keep the old virtualenv (its first line names the interpreter of its release), and
# `python -m gunicorn` cannot be re-executed (gunicorn's own `http` package would hide the standard library's).
# Workers and beat are restarted by the caller afterwards (systemctl restart portal-worker@* portal-beat).
set -euo pipefail

HOME_DIR=/srv/portal
REPO=""
REF=HEAD
VENV=""
KEEP=5
while (($#)); do
  case "$1" in
    --home) HOME_DIR=$2; shift 2 ;;
    --repo) REPO=$2; shift 2 ;;
    --ref) REF=$2; shift 2 ;;
    --venv) VENV=$2; shift 2 ;;
    --keep) KEEP=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "release: unknown argument $1" >&2; exit 2 ;;
  esac
done
HOME_DIR=$(realpath "$HOME_DIR")
REPO=${REPO:-$(git -C "$(dirname "$0")" rev-parse --show-toplevel)}
ENV_FILE=$HOME_DIR/portal.env
[[ -r $ENV_FILE ]] || { echo "release: no $ENV_FILE (the machine's environment, docs/deploy.md)" >&2; exit 2; }

started=$EPOCHREALTIME
# A process that has exited but was not reaped yet (a zombie) is gone for us.
alive() { local state; state=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $state != Z* ]]; }
step() { awk -v a="$started" -v b="$EPOCHREALTIME" -v m="$*" 'BEGIN { printf "release: [%6.1fs] %s\n", b - a, m }'; }

# --- 1. the code and its virtualenv --------------------------------------------------------------------------------
mkdir -p "$HOME_DIR/releases"
commit=$(git -C "$REPO" rev-parse --verify "$REF^{commit}" 2>/dev/null || true)
if [[ -z $commit ]]; then  # a remote repository: ask it
  commit=$(git ls-remote "$REPO" "$REF" | awk 'NR == 1 {print $1}')
fi
[[ -n $commit ]] || { echo "release: $REF is not a commit of $REPO" >&2; exit 2; }
new=$HOME_DIR/releases/$(date -u +%Y%m%dT%H%M%SZ)-${commit:0:10}
step "checking out $commit into $new"
git clone --quiet --no-checkout "$REPO" "$new"
git -C "$new" checkout --quiet --detach "$commit"
if [[ -n $VENV ]]; then
  ln -s "$(realpath "$VENV")" "$new/.venv"
else
  step "virtualenv"
  python3 -m venv "$new/.venv"
  "$new/.venv/bin/python" -m pip install -q --disable-pip-version-check "pip==$(sed -n 's/^PIP_VERSION := //p' "$new/Makefile")"
  "$new/.venv/bin/python" -m pip install -q --disable-pip-version-check --build-constraint "$new/build-constraints.txt" \
    -r "$new/requirements.txt"
fi

# --- 2. prepare it with the machine's environment ------------------------------------------------------------------
set -a
# shellcheck disable=SC1090
. "$ENV_FILE"
set +a
cd "$new"
manage() { "$new/.venv/bin/python" manage.py "$@"; }
step "check --deploy"
manage check --deploy
step "compilemessages"
manage compilemessages --ignore=.venv -v0
step "collectstatic"
manage collectstatic --noinput -v0  # STATIC_ROOT is shared: pages of the old release still find their files
step "migrate"
manage migrate --noinput -v0  # the old release serves on the new schema until the switch: migrations must allow it

# --- 3. switch ------------------------------------------------------------------------------------------------------
previous=$(readlink "$HOME_DIR/current" 2>/dev/null || true)
switch_to() { ln -sfn "$1" "$HOME_DIR/current.tmp" && mv -T "$HOME_DIR/current.tmp" "$HOME_DIR/current"; }
step "current -> $new"
switch_to "$new"

pidfile=${GUNICORN_PIDFILE:-}
old=$([[ -n $pidfile && -r $pidfile ]] && cat "$pidfile" || true)
if [[ -z $old ]] || ! alive "$old"; then
  step "no gunicorn running (GUNICORN_PIDFILE=${pidfile:-unset}): start it from $HOME_DIR/current (docs/deploy.md)"
else
  read -r workers graceful < <("$new/.venv/bin/python" -c \
    'import runpy; c = runpy.run_path("gunicorn.conf.py"); print(c["workers"], c["graceful_timeout"])')
  step "USR2 to gunicorn master $old; waiting for a new master with $workers workers"
  kill -USR2 "$old"
  deadline=$((SECONDS + ${RELEASE_BOOT_TIMEOUT:-90}))
  newpid=""
  while :; do
    if [[ -z $newpid && -r $pidfile.2 ]]; then newpid=$(cat "$pidfile.2" 2>/dev/null || true); fi
    if [[ -n $newpid ]]; then
      if ! alive "$newpid"; then newpid=""; break; fi
      ready=$(pgrep -P "$newpid" -c || true)
      if ((ready >= workers)); then break; fi
    fi
    if ((SECONDS > deadline)); then break; fi
    sleep 0.2
  done
  if [[ -z $newpid ]] || ((SECONDS > deadline)); then
    echo "release: the new gunicorn master did not come up; $old serves the previous release" >&2
    [[ -n $newpid ]] && kill -TERM "$newpid" 2>/dev/null
    if [[ -n $previous ]]; then switch_to "$previous"; else rm -f "$HOME_DIR/current"; fi
    exit 1
  fi
  sleep 1  # the workers' own start-up (a few milliseconds each) after their fork
  # systemd (PIDFile=) follows the main pid through the file when the old master exits; the old master removes the
  # file on exit only while it names itself.
  echo "$newpid" > "$pidfile.tmp" && mv "$pidfile.tmp" "$pidfile"
  step "new master $newpid is up; TERM to the old master $old (its workers finish their requests)"
  kill -TERM "$old"
  for ((i = 0; i < (graceful + 10) * 5; i++)); do alive "$old" || break; sleep 0.2; done
  if alive "$old"; then echo "release: the old master $old is still running" >&2; fi
fi

# --- 4. tidy: keep the newest KEEP releases (never the current one) ------------------------------------------------
mapfile -t releases < <(ls -1d "$HOME_DIR"/releases/*/ | sort -r)
for ((i = KEEP; i < ${#releases[@]}; i++)); do
  [[ $(realpath "${releases[i]}") == "$(realpath "$HOME_DIR/current")" ]] || rm -rf "${releases[i]}"
done
step "released $commit"
