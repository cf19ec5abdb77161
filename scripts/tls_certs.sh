#!/usr/bin/env bash
# A throwaway certificate authority and the server certificates the HTTPS tests need
# (tests/http_tls.rs, the crawler's https run in .ci/run), made fresh with openssl:
#
#   ca.pem                         the test CA (trust it with --cacert / TlsConfig::add_root_pem)
#   localhost.pem, localhost.key   for localhost and 127.0.0.1, signed by the CA
#   other.pem, other.key           for other.example only, signed by the CA (the wrong host)
#   expired.pem                    localhost's key, signed by the CA, valid 2020-01-01 to 01-02
#   selfsigned.pem, selfsigned.key for localhost, signed by itself (no CA vouches for it)
#
# Keys are ECDSA P-256. Nothing here is secret: the keys exist for one test run.
#
# Usage: scripts/tls_certs.sh DIR   (DIR is created; existing files are replaced)
# Installs Debian's openssl package if it is missing (needs root, as on CI).
set -euo pipefail

dir=${1:?usage: $0 DIR}
mkdir -p "$dir"
cd "$dir"

if ! command -v openssl >/dev/null; then
  apt-get install -y -q openssl >/dev/null
fi

# A config with no default extensions: each certificate gets exactly the ones named below.
cat > req.cnf <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
EOF
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }
leaf_ext() { # names
  printf 'subjectAltName=%s\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n' "$1"
}

key ca.key
openssl req -x509 -config req.cnf -key ca.key -out ca.pem -days 36500 -subj "/CN=evloop test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

sign() { # name, subject names, extra args for `openssl x509 -req`
  local name=$1 names=$2
  shift 2
  openssl req -new -config req.cnf -key "$name.key" -subj "/CN=${names#DNS:}" -out "$name.csr" 2>/dev/null
  leaf_ext "$names" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -set_serial "$RANDOM$RANDOM" \
    -days 36500 -extfile "$name.ext" -out "$name.pem" 2>/dev/null
}

key localhost.key
sign localhost "DNS:localhost,IP:127.0.0.1"
key other.key
sign other "DNS:other.example"

# Expired: `openssl x509` cannot backdate before OpenSSL 3.4, `openssl ca` can.
rm -f index.txt && touch index.txt && echo 1000 > serial
cat > ca.cnf <<'EOF'
[ca]
default_ca = test
[test]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
unique_subject = no
[any]
commonName = supplied
EOF
openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in localhost.csr -out expired.pem -notext \
  -startdate 20200101000000Z -enddate 20200102000000Z -extfile localhost.ext 2>/dev/null

key selfsigned.key
leaf_ext "DNS:localhost,IP:127.0.0.1" > selfsigned.ext
openssl req -x509 -config req.cnf -key selfsigned.key -out selfsigned.pem -days 36500 -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -addext "basicConstraints=critical,CA:FALSE" 2>/dev/null

rm -f ./*.csr ./*.ext index.txt* serial* ./*.cnf ./[0-9]*.pem
