# Shared by the bench scripts: timing (median of RUNS), peak memory, the Python reference
# tools in a private virtualenv, ratio arithmetic. Source it; it defines functions only.

# measure NAME COMMAND...: runs COMMAND $RUNS times; writes the median wall seconds to
# $WORK/NAME.t and the largest peak RSS (MiB) to $WORK/NAME.m. Output goes to $WORK/NAME.out.
measure() {
  local name=$1; shift
  local times=() peak=0
  for _ in $(seq "${RUNS:-3}"); do
    /usr/bin/time -f '%e %M' -o "$WORK/$name.time" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" \
      || { echo "failed: $* $(tail -5 "$WORK/$name.err")" >&2; exit 1; }
    read -r secs kb <"$WORK/$name.time"
    times+=("$secs")
    [ "$kb" -gt "$peak" ] && peak=$kb
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}' >"$WORK/$name.t"
  echo $((peak / 1024)) >"$WORK/$name.m"
}

t() { cat "$WORK/$1.t"; }
m() { cat "$WORK/$1.m"; }
ratio() { printf '%.2f' "$(echo "scale=4; $(t "$1") / $(t "$2")" | bc -l)"; }

# A virtualenv under target/ with the Python reference tools (PyPI).
python_tools() {
  local venv=target/bench-venv
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
  fi
  "$venv/bin/python" -c 'import fastobo, pronto, rdflib, pystow' 2>/dev/null \
    || "$venv/bin/pip" install --quiet fastobo pronto rdflib pystow >&2
  PY=$PWD/$venv/bin/python
}

machine() {
  printf 'machine: %s, %s CPUs, %s GiB; %s\n' "$(uname -m)" "$(nproc)" \
    "$(awk '/MemTotal/ {printf "%d", $2/1048576}' /proc/meminfo)" "$(date -u +%Y-%m-%d)"
}

# race NAME 'COMMAND' [NAME 'COMMAND']...: like measure, but runs the commands in turn
# within each of the $RUNS rounds, so drift on a shared machine (page cache, a neighbour)
# hits every command alike. Commands are bash strings. Wall time is read from bash's
# EPOCHREALTIME around each run (to the microsecond: /usr/bin/time's 10 ms steps are 5% of
# a 0.2 s download), so `t` prints milliseconds' precision.
race() {
  local -a names=() cmds=()
  while [ $# -gt 0 ]; do names+=("$1"); cmds+=("$2"); shift 2; done
  local i
  for i in "${!names[@]}"; do : >"$WORK/${names[$i]}.all"; echo 0 >"$WORK/${names[$i]}.m"; done
  for _ in $(seq "${RUNS:-3}"); do
    for i in "${!names[@]}"; do
      local n=${names[$i]} start end
      start=$EPOCHREALTIME
      /usr/bin/time -f '%e %M' -o "$WORK/$n.time" bash -c "${cmds[$i]}" >"$WORK/$n.out" 2>"$WORK/$n.err" \
        || { echo "failed: ${cmds[$i]} $(tail -5 "$WORK/$n.err")" >&2; exit 1; }
      end=$EPOCHREALTIME
      read -r _ kb <"$WORK/$n.time"
      echo "$end - $start" | bc -l >>"$WORK/$n.all"
      [ "$((kb / 1024))" -gt "$(cat "$WORK/$n.m")" ] && echo $((kb / 1024)) >"$WORK/$n.m"
    done
  done
  for n in "${names[@]}"; do
    sort -n "$WORK/$n.all" | awk '{a[NR]=$1} END {printf "%.3f\n", a[int((NR+1)/2)]}' >"$WORK/$n.t"
  done
}

# pratio NAME REF: after `race`, the median of the per-round ratios NAME/REF (each round's
# pair ran minutes apart at most, so drift between rounds cancels), with their range.
pratio() {
  paste "$WORK/$1.all" "$WORK/$2.all" | awk '{print $1 / $2}' | sort -n |
    awk '{a[NR]=$1} END {printf "%.2f (%.2f–%.2f)", a[int((NR+1)/2)], a[1], a[NR]}'
}

# start_nginx ROOT PORT: Debian's nginx-light serving ROOT on 127.0.0.1:PORT (sendfile on),
# its files under $WORK/nginx; sets NGINX_PID. nginx's workers run as nobody, so ROOT must
# be world-readable.
start_nginx() {
  mkdir -p "$WORK/nginx"
  cat >"$WORK/nginx/nginx.conf" <<CONF
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events {}
http {
  access_log off;
  sendfile on;
  client_body_temp_path $WORK/nginx; proxy_temp_path $WORK/nginx; fastcgi_temp_path $WORK/nginx;
  uwsgi_temp_path $WORK/nginx; scgi_temp_path $WORK/nginx;
  server { listen 127.0.0.1:$2; root $1; }
}
CONF
  nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" >/dev/null 2>&1 &
  NGINX_PID=$!
}
