#!/usr/bin/python3
"""bench/crl's OCSP load: one request for each serial, so the server's pre-signed cache fills.

  ocsp_fill.py URL CA_CERT SERIALS_FILE [CONNECTIONS]

SERIALS_FILE holds one serial a line (hex) of certificates CA_CERT (DER or PEM) issued. Each gets
one POST of an OCSP request with a SHA-1 CertID and no nonce, over CONNECTIONS [8] keep-alive
connections; every answer must be HTTP 200 with responseStatus successful. Prints
"fill: ok=N bad=N seconds=S" and exits 1 when an answer was bad.
"""
import concurrent.futures
import hashlib
import http.client
import sys
import time
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import serialization


def tlv(tag, content):
    length = len(content)
    if length < 0x80:
        header = bytes([tag, length])
    elif length < 0x100:
        header = bytes([tag, 0x81, length])
    else:
        header = bytes([tag, 0x82, length >> 8, length & 0xff])
    return header + content


def request_der(name_hash, key_hash, serial):
    serial_bytes = serial.to_bytes((serial.bit_length() + 8) // 8, "big")  # leading 0 if needed
    sha1 = tlv(0x30, bytes.fromhex("06052b0e03021a") + bytes.fromhex("0500"))
    cert_id = tlv(0x30, sha1 + tlv(0x04, name_hash) + tlv(0x04, key_hash) +
                  tlv(0x02, serial_bytes))
    return tlv(0x30, tlv(0x30, tlv(0x30, tlv(0x30, cert_id))))


def successful(answer):
    """OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED (0: successful), ... }"""
    if len(answer) < 5 or answer[0] != 0x30:
        return False
    header = 2 if answer[1] < 0x80 else 2 + (answer[1] & 0x7f)
    return answer[header:header + 3] == b"\x0a\x01\x00"


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit("usage: ocsp_fill.py URL CA_CERT SERIALS_FILE [CONNECTIONS]")
    url = urllib.parse.urlsplit(sys.argv[1])
    with open(sys.argv[2], "rb") as f:
        data = f.read()
    ca = (x509.load_pem_x509_certificate(data) if data.startswith(b"-----")
          else x509.load_der_x509_certificate(data))
    name_hash = hashlib.sha1(ca.subject.public_bytes()).digest()
    spki = ca.public_key().public_bytes(serialization.Encoding.X962,
                                        serialization.PublicFormat.UncompressedPoint)
    key_hash = hashlib.sha1(spki).digest()
    with open(sys.argv[3]) as f:
        serials = [int(line, 16) for line in f if line.strip()]
    connections = int(sys.argv[4]) if len(sys.argv) == 5 else 8
    requests = [request_der(name_hash, key_hash, serial) for serial in serials]

    def send(part):
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        ok = bad = 0
        for body in requests[part::connections]:
            connection.request("POST", url.path or "/", body=body,
                               headers={"Content-Type": "application/ocsp-request"})
            reply = connection.getresponse()
            answer = reply.read()
            if reply.status == 200 and successful(answer):
                ok += 1
            else:
                bad += 1
        connection.close()
        return ok, bad

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(connections) as pool:
        results = list(pool.map(send, range(connections)))
    seconds = time.monotonic() - started
    ok = sum(result[0] for result in results)
    bad = sum(result[1] for result in results)
    print(f"fill: ok={ok} bad={bad} seconds={seconds:.1f}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
