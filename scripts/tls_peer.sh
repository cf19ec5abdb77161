#!/usr/bin/env bash
# nginx over TLS on 127.0.0.1, with a certificate from a throwaway CA (scripts/tls_certs.sh):
# the real HTTPS peer that CI crawls with `crawler --url ... --cacert ...` and fetches from.
# Every path under /page/ answers 200 with a short body, keep-alive, Content-Length framed.
#
# Usage:  scripts/tls_peer.sh start STATE_DIR   make the certificates, start nginx, wait until it
#                                               answers, write STATE_DIR/tls_peer.env:
#                                               EVLOOP_TLS_NGINX (https://localhost:PORT) and
#                                               EVLOOP_TLS_CA (the CA file to pass as --cacert)
#         scripts/tls_peer.sh stop STATE_DIR    stop nginx by the PID it recorded
#
# Installs Debian's nginx-light and openssl if missing (needs root, as on CI).
set -euo pipefail

cmd=${1:-}
state=${2:-}
[ -n "$cmd" ] && [ -n "$state" ] || { echo "usage: $0 start|stop STATE_DIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)

case "$cmd" in
  stop)
    [ -f "$state/nginx/nginx.pid" ] && kill "$(cat "$state/nginx/nginx.pid")" 2>/dev/null || true
    exit 0
    ;;
  start) ;;
  *) echo "usage: $0 start|stop STATE_DIR" >&2; exit 2 ;;
esac

if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  echo "tls_peer.sh: installing nginx-light (Debian)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq nginx-light >/dev/null
fi
PATH=$PATH:/usr/sbin

bash "$here/tls_certs.sh" "$state/certs"
mkdir -p "$state/nginx"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
cat > "$state/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $state/nginx/nginx.pid;
error_log $state/nginx/error.log;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path $state/nginx/body;
  proxy_temp_path $state/nginx/proxy;
  fastcgi_temp_path $state/nginx/fastcgi;
  uwsgi_temp_path $state/nginx/uwsgi;
  scgi_temp_path $state/nginx/scgi;
  keepalive_requests 100000;
  server {
    listen 127.0.0.1:$port ssl;
    ssl_certificate $state/certs/localhost.pem;
    ssl_certificate_key $state/certs/localhost.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    location /page/ { default_type text/plain; return 200 "a page over TLS\n"; }
  }
}
EOF
nginx -c "$state/nginx/nginx.conf" -p "$state/nginx" >"$state/nginx/stdout.log" 2>&1

for _ in $(seq 1 100); do
  if python3 - "$port" "$state/certs/ca.pem" <<'EOF' 2>/dev/null
import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[2])
urllib.request.urlopen(f"https://localhost:{sys.argv[1]}/page/0", timeout=1, context=ctx).read()
EOF
  then
    printf 'EVLOOP_TLS_NGINX=https://localhost:%s\nEVLOOP_TLS_CA=%s\n' "$port" "$state/certs/ca.pem" > "$state/tls_peer.env"
    echo "tls_peer.sh: nginx over TLS at https://localhost:$port" >&2
    exit 0
  fi
  sleep 0.1
done
echo "tls_peer.sh: nginx did not answer over TLS; its log is in $state/nginx" >&2
exit 1
