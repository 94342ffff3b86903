#!/usr/bin/env bash
# Makes a throwaway PKI for the TLS tests with openssl (works with OpenSSL 3.0, Debian 12's):
#
#   ca.pem / ca.key                      the test CA (pass ca.pem to `vigil serve --client-ca`)
#   server.pem / server.key              the server certificate: SAN IP:127.0.0.1 and DNS:localhost
#   client-a.pem / client-a.key          tenant a's client certificate: subject CN=bank-a-client,O=Bank A,C=GB,
#                                        SANs DNS:bank-a.test and URI:spiffe://vigil.test/tenant/bank-a
#   client-b.pem / client-b.key          tenant b's client certificate: subject CN=bank-b-client,O=Bank B,C=GB,
#                                        SANs DNS:bank-b.test and email:fraud-ops@bank-b.test
#   client-expired.pem / .key            signed by the test CA, valid only in January 2020
#   rogue-ca.pem / rogue-ca.key          a second CA the server does not trust
#   rogue-client.pem / rogue-client.key  signed by the rogue CA, with exactly client-a's subject and SANs
#
# Everything is generated fresh into OUTDIR; nothing here is a real secret and nothing is committed.
#
#   scripts/test_pki.sh OUTDIR
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
out=$1
mkdir -p "$out"
cd "$out"
umask 077

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# ca NAME SUBJECT: a self-signed CA valid for ten years.
ca() {
    key "$1.key"
    openssl req -x509 -new -key "$1.key" -sha256 -days 3650 -subj "$2" -out "$1.pem" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -addext "subjectKeyIdentifier=hash"
}

# leaf NAME ISSUER SUBJECT EXTENSIONS: a certificate valid for 30 days, signed by ISSUER.pem/ISSUER.key.
leaf() {
    key "$1.key"
    openssl req -new -key "$1.key" -subj "$3" -out "$1.csr"
    printf '[v3]\n%s\n' "$4" > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -set_serial "0x$(openssl rand -hex 12)" \
        -sha256 -days 30 -extfile "$1.ext" -extensions v3 -out "$1.pem" 2>/dev/null
    rm -f "$1.csr" "$1.ext"
}

client_ext() {
    printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectAltName=%s' "$1"
}

ca ca "/O=Vigil Test/CN=Vigil Test CA"
leaf server ca "/O=Vigil Test/CN=localhost" "$(printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost')"
leaf client-a ca "/C=GB/O=Bank A/CN=bank-a-client" "$(client_ext 'DNS:bank-a.test,URI:spiffe://vigil.test/tenant/bank-a')"
leaf client-b ca "/C=GB/O=Bank B/CN=bank-b-client" "$(client_ext 'DNS:bank-b.test,email:fraud-ops@bank-b.test')"

# An expired certificate from the real CA: `openssl ca` is the OpenSSL 3.0 way to set dates in the past.
mkdir -p ca-db
: > ca-db/index.txt
echo 1000 > ca-db/serial
cat > ca-db/openssl.cnf <<'EOF'
[ca]
default_ca = test_ca
[test_ca]
dir = ./ca-db
database = $dir/index.txt
new_certs_dir = $dir
serial = $dir/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
[policy_any]
countryName = optional
organizationName = optional
commonName = supplied
[client_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:bank-a.test
EOF
key client-expired.key
openssl req -new -key client-expired.key -subj "/C=GB/O=Bank A/CN=bank-a-expired" -out client-expired.csr
openssl ca -batch -config ca-db/openssl.cnf -cert ca.pem -keyfile ca.key -in client-expired.csr \
    -startdate 20200101000000Z -enddate 20200201000000Z -extensions client_ext -notext -out client-expired.pem 2>/dev/null
rm -rf ca-db client-expired.csr

ca rogue-ca "/O=Vigil Test/CN=Vigil Test CA"
leaf rogue-client rogue-ca "/C=GB/O=Bank A/CN=bank-a-client" "$(client_ext 'DNS:bank-a.test,URI:spiffe://vigil.test/tenant/bank-a')"

# Certificates are public; keys stay 0600.
chmod 644 ./*.pem
for cert in ca server client-a client-b client-expired rogue-ca rogue-client; do
    test -s "$cert.pem" && test -s "$cert.key" || { echo "test_pki.sh: $cert was not generated" >&2; exit 1; }
done
openssl verify -CAfile ca.pem server.pem client-a.pem client-b.pem > /dev/null
