#!/usr/bin/python3
"""bench/crl's independent look at a CRL (python3-cryptography, not Keyline's code).

  crl_check.py CRL CA_CERT ENTRIES [--delta BASE] [--contains SERIAL_HEX]...

CRL is DER or PEM, CA_CERT (DER or PEM) the CA that must have signed it. Checks the signature,
that it lists exactly ENTRIES certificates, that it carries a CRL number, with --delta that it is a
delta CRL on the full CRL numbered BASE (or any base when BASE is "any"), and that each --contains
serial is listed. Prints "crl: entries=N crl_number=X [base=Y] bytes=Z" and exits 1 when a check
fails.
"""
import sys

from cryptography import x509


def load(path, loader_der, loader_pem):
    with open(path, "rb") as f:
        data = f.read()
    return (loader_pem if data.startswith(b"-----") else loader_der)(data), len(data)


def main():
    args = sys.argv[1:]
    if len(args) < 3:
        sys.exit("usage: crl_check.py CRL CA_CERT ENTRIES [--delta BASE] [--contains SERIAL_HEX]...")
    crl, size = load(args[0], x509.load_der_x509_crl, x509.load_pem_x509_crl)
    ca, _ = load(args[1], x509.load_der_x509_certificate, x509.load_pem_x509_certificate)
    entries = int(args[2])
    delta_base = None
    contains = []
    rest = args[3:]
    while rest:
        if rest[0] == "--delta" and len(rest) >= 2:
            delta_base = rest[1]
        elif rest[0] == "--contains" and len(rest) >= 2:
            contains.append(int(rest[1], 16))
        else:
            sys.exit(f"crl_check: unexpected argument {rest[0]}")
        rest = rest[2:]
    problems = []
    if not crl.is_signature_valid(ca.public_key()):
        problems.append("signature does not verify with the CA's key")
    if crl.issuer != ca.subject:
        problems.append("issuer is not the CA's subject")
    listed = len(crl)
    if listed != entries:
        problems.append(f"{listed} entries, expected {entries}")
    number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    line = f"crl: entries={listed} crl_number={number}"
    try:
        base = crl.extensions.get_extension_for_class(x509.DeltaCRLIndicator).value.crl_number
        line += f" base={base}"
        if delta_base is None:
            problems.append("a delta CRL where a full one was expected")
        elif delta_base != "any" and base != int(delta_base):
            problems.append(f"delta on base {base}, expected {delta_base}")
    except x509.ExtensionNotFound:
        if delta_base is not None:
            problems.append("not a delta CRL")
    for serial in contains:
        if crl.get_revoked_certificate_by_serial_number(serial) is None:
            problems.append(f"serial {serial:x} not listed")
    print(f"{line} bytes={size}")
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
