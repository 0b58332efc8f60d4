#!/usr/bin/env bash
# Seeds for provisioning's fuzz targets:
#   parse_attestation_chain_fuzzer/: length-prefixed (2 octets, big-endian) DER certificates
#   parse_signed_voucher_fuzzer/: a SignedVoucher whose signer is a real certificate
# Needs openssl, python3 and protoc (all installed by scripts/install-deps).
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=seed vendor CA" \
  -days 3650 -keyout "$tmp/ca.key" -outform DER -out "$tmp/ca.der" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=SN-0001" \
  -keyout "$tmp/leaf.key" -out "$tmp/leaf.csr" 2>/dev/null
openssl x509 -req -in "$tmp/leaf.csr" -CA "$tmp/ca.der" -CAform DER -CAkey "$tmp/ca.key" \
  -days 3650 -outform DER -out "$tmp/leaf.der" 2>/dev/null
python3 - "$tmp" <<'PY'
import struct, sys
tmp = sys.argv[1]
leaf = open(f"{tmp}/leaf.der", "rb").read()
ca = open(f"{tmp}/ca.der", "rb").read()
frame = lambda b: struct.pack(">H", len(b)) + b
open("parse_attestation_chain_fuzzer/leaf", "wb").write(frame(leaf))
open("parse_attestation_chain_fuzzer/leaf_and_ca", "wb").write(frame(leaf) + frame(ca))
# SignedVoucher: field 1 voucher (bytes), 2 signature, 3 signer_certificate; hand-encoded so the
# seed does not depend on generated code.
def field(number, value):
    out, length = bytes([(number << 3) | 2]), len(value)
    while True:
        byte = length & 0x7F
        length >>= 7
        out += bytes([byte | (0x80 if length else 0)])
        if not length:
            return out + value
voucher = field(1, b"SN-0001") + field(2, b"\x11" * 32) + field(3, b"default")
open("parse_signed_voucher_fuzzer/voucher", "wb").write(
    field(1, voucher) + field(2, b"\x30\x06\x02\x01\x01\x02\x01\x01") + field(3, ca))
PY
