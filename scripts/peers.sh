#!/usr/bin/env bash
# Real third-party HTTP servers for evloop's client tests (tests/http_peers.rs), on 127.0.0.1 only:
#
#   httpbin   (PyPI) served by gunicorn with the gthread worker, so keep-alive works
#   nginx     (Debian's nginx-light) serving static files, and chunked output via sub_filter
#   python    http.server, once as HTTP/1.0 (its default) and once as HTTP/1.1
#
# Usage:  scripts/peers.sh start STATE_DIR   install what is missing, start all four, wait until
#                                            they answer, write STATE_DIR/peers.env (their URLs)
#         scripts/peers.sh stop STATE_DIR    stop them by the PIDs recorded in STATE_DIR/pids
#
# Installing needs root (apt-get) and the package registries, as on CI and the dev machines.
# The Python packages go into a venv under STATE_DIR/../peers-venv, reused between runs.
set -euo pipefail

cmd=${1:-}
state=${2:-}
[ -n "$cmd" ] && [ -n "$state" ] || { echo "usage: $0 start|stop STATE_DIR" >&2; exit 2; }

stop() {
  [ -f "$state/pids" ] || return 0
  while read -r pid; do
    kill "$pid" 2>/dev/null || true
  done < "$state/pids"
  # nginx's master writes its own pid file; stop its workers with it.
  [ -f "$state/nginx/nginx.pid" ] && kill "$(cat "$state/nginx/nginx.pid")" 2>/dev/null || true
  rm -f "$state/pids"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_for() { # url, name
  for _ in $(seq 1 100); do
    if python3 - "$1" <<'EOF' 2>/dev/null
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=1).read()
EOF
    then return 0; fi
    sleep 0.1
  done
  echo "peers.sh: $2 did not answer at $1; its log is in $state" >&2
  return 1
}

install() {
  if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
    echo "peers.sh: installing nginx-light (Debian)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq nginx-light >/dev/null
  fi
  venv="$state/../peers-venv"
  if ! "$venv/bin/python" -c 'import httpbin, gunicorn' >/dev/null 2>&1; then
    echo "peers.sh: installing httpbin and gunicorn (PyPI) into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check httpbin gunicorn
  fi
}

start() {
  stop
  mkdir -p "$state/www" "$state/nginx"
  state=$(cd "$state" && pwd)
  install
  venv=$(cd "$state/../peers-venv" && pwd)

  # Static content shared by nginx and the python servers.
  printf 'hello from a static file\n' > "$state/www/hello.txt"
  python3 -c 'import sys; sys.stdout.buffer.write(bytes(i % 251 for i in range(1 << 20)))' > "$state/www/mib.bin"
  mkdir -p "$state/www/chunked"
  for i in $(seq 1 2000); do printf 'line %d of a body nginx sends chunked\n' "$i"; done > "$state/www/chunked/page.html"

  : > "$state/pids"
  httpbin_port=$(free_port)
  (cd "$state" && exec "$venv/bin/gunicorn" -k gthread --threads 8 --keep-alive 30 \
      -b "127.0.0.1:$httpbin_port" httpbin:app >"$state/httpbin.log" 2>&1) &
  echo $! >> "$state/pids"

  nginx_port=$(free_port)
  cat > "$state/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $state/nginx/nginx.pid;
error_log $state/nginx/error.log;
# 2,048: the bench's --sweep runs http_conc at 1,000 connections (nginx counts its listener too).
worker_rlimit_nofile 4096;
events { worker_connections 2048; }
http {
  access_log off;
  client_body_temp_path $state/nginx/body;
  proxy_temp_path $state/nginx/proxy;
  fastcgi_temp_path $state/nginx/fastcgi;
  uwsgi_temp_path $state/nginx/uwsgi;
  scgi_temp_path $state/nginx/scgi;
  keepalive_timeout 30s;
  keepalive_requests 100000;
  types { text/plain txt; text/html html; application/octet-stream bin; }
  server {
    listen 127.0.0.1:$nginx_port;
    root $state/www;
    # sub_filter rewrites the body, so its length is unknown up front: nginx sends it chunked.
    location /chunked/ { sub_filter 'line' 'LINE'; sub_filter_once off; }
  }
}
EOF
  nginx -c "$state/nginx/nginx.conf" -p "$state/nginx" -g 'daemon off;' >"$state/nginx/stdout.log" 2>&1 &
  echo $! >> "$state/pids"

  py10_port=$(free_port)
  (cd "$state/www" && exec python3 -m http.server --bind 127.0.0.1 "$py10_port" >"$state/py10.log" 2>&1) &
  echo $! >> "$state/pids"

  py11_port=$(free_port)
  (cd "$state/www" && exec python3 -c '
import sys, http.server as h
h.SimpleHTTPRequestHandler.protocol_version = "HTTP/1.1"
h.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), h.SimpleHTTPRequestHandler).serve_forever()
' "$py11_port" >"$state/py11.log" 2>&1) &
  echo $! >> "$state/pids"

  wait_for "http://127.0.0.1:$httpbin_port/get" httpbin
  wait_for "http://127.0.0.1:$nginx_port/hello.txt" nginx
  wait_for "http://127.0.0.1:$py10_port/hello.txt" "python http.server (HTTP/1.0)"
  wait_for "http://127.0.0.1:$py11_port/hello.txt" "python http.server (HTTP/1.1)"

  cat > "$state/peers.env" <<EOF
EVLOOP_HTTPBIN=http://127.0.0.1:$httpbin_port
EVLOOP_NGINX=http://127.0.0.1:$nginx_port
EVLOOP_PY10=http://127.0.0.1:$py10_port
EVLOOP_PY11=http://127.0.0.1:$py11_port
EOF
  echo "peers.sh: httpbin :$httpbin_port, nginx :$nginx_port, python 1.0 :$py10_port, python 1.1 :$py11_port" >&2
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop STATE_DIR" >&2; exit 2 ;;
esac
