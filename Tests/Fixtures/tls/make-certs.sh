#!/bin/sh
# Test certificates for SIP over TLS, made fresh by each test run in the folder given:
#   ca.pem            the test CA (what tlsCaFile pins)
#   good.pem/key      for 127.0.0.1 and sip.test, signed by the CA
#   wrongname.pem/key for other.test only, signed by the CA
#   expired.pem/key   for 127.0.0.1, signed by the CA, valid 2020-01-01 to 2020-01-02 only
#   stranger.pem/key  for 127.0.0.1, signed by a CA nobody trusts
set -eu
dir=$1
cd "$dir"
cat > ca.cnf <<'CNF'
[ca]
default_ca = test
[test]
dir = .
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
copy_extensions = copy
unique_subject = no
[any]
commonName = supplied
CNF
: > index.txt
echo 01 > serial
quiet() { "$@" > /dev/null 2>&1 || { echo "failed: $*" >&2; "$@"; exit 1; }; }
# $1 name, $2 CA (key/cert prefix), $3 subjectAltName, $4 extra args for `openssl ca`
issue() {
  quiet openssl req -new -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$1" -addext "subjectAltName=$3"
  quiet openssl ca -batch -config ca.cnf -cert "$2.pem" -keyfile "$2.key" -in "$1.csr" -out "$1.pem" $4
}
quiet openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=TipRing test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
quiet openssl req -x509 -newkey rsa:2048 -nodes -keyout otherca.key -out otherca.pem -days 2 -subj "/CN=Nobody's CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
issue good ca "IP:127.0.0.1,DNS:sip.test" "-days 2"
issue wrongname ca "DNS:other.test" "-days 2"
issue expired ca "IP:127.0.0.1" "-startdate 20200101000000Z -enddate 20200102000000Z"
issue stranger otherca "IP:127.0.0.1" "-days 2"
