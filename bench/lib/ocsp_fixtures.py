#!/usr/bin/python3
"""bench/ocsp's fixtures: the certificates, the OCSP requests wrk sends and the peers' data.

  ocsp_fixtures.py issue TARGET ROOT_PEM ADMIN_CERT ADMIN_KEY PROTO_DIR COUNT DIR
      Issues COUNT operator certificates (role gateway) through Keyline's
      AdminService.IssueOperatorCertificate (Python grpcio, stubs made by protoc from proto/),
      writes DIR/keyline/certs.pem (the leaves), DIR/keyline/issuer.pem (the operator CA) and
      DIR/revoke.txt, a `keylinectl revoke --batch` file naming every tenth certificate with a
      reason that cycles through keyCompromise, superseded, cessationOfOperation and
      affiliationChanged.

  ocsp_fixtures.py build DIR STATUS_FILE NONCE_TEMPLATES
      STATUS_FILE holds "serial_hex|good" or "serial_hex|revoked|revoked_at_unix|reason" lines,
      read from Keyline's database after the revocation. Writes, for Keyline (DIR/keyline/) and
      for the peers (DIR/peer/), the request files of bench/lib/ocsp_wrk.lua:
        post.hex    one DER OCSPRequest a line (hex): one SHA-1 CertID, no nonce
        get.txt     the same requests as GET paths (RFC 6960 A.1): the responder's URL path
                    (Keyline: /ocsp/, the peers: /) + the URL-encoded base64 of the request
        nonce.hex   NONCE_TEMPLATES requests with a 32-octet nonce as their last octets
                    (the Lua script overwrites them with a counter, so no two requests repeat)
      and, for the peers, a software CA (P-256) standing in for Keyline's operator CA, whose key
      never leaves the HSM: DIR/peer/ca.pem, ca-key.pem, a delegated responder (id-kp-
      OCSPSigning) responder.pem, responder-key.pem, the same serials re-issued by that CA
      (same subjects and public keys) as cfssl's certdb rows (certdb.sql) and openssl's
      index.txt with the same statuses, revocation times and reasons.

  ocsp_fixtures.py check URL METHOD REQUESTS STATUS_FILE ISSUER_PEM [--nonce]
      Sends every request of REQUESTS (post.hex or get.txt; METHOD post or get) once on one
      keep-alive connection and checks each answer: HTTP 200, a successful OCSPResponse whose
      single response names the serial asked for with the status, revocation time and reason of
      STATUS_FILE, signed by a responder certificate that ISSUER_PEM issued (or by the issuer).
      With --nonce, each request gets a fresh random nonce that the answer must echo. Prints
      "check: ok=N bad=N http=<code:count,...>" and exits 1 when anything is bad, listing the
      first problems.
"""
import base64
import concurrent.futures
import datetime
import http.client
import os
import subprocess
import sys
import tempfile
import urllib.parse

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NONCE_OCTETS = 32
REASONS = ["keyCompromise", "superseded", "cessationOfOperation", "affiliationChanged"]
# RFC 5280 CRLReason codes and the names openssl's index.txt and x509.ReasonFlags use.
REASON_CODES = {0: "unspecified", 1: "keyCompromise", 2: "CACompromise", 3: "affiliationChanged",
                4: "superseded", 5: "cessationOfOperation", 6: "certificateHold",
                9: "privilegeWithdrawn", 10: "AACompromise"}
REASON_FLAGS = {0: x509.ReasonFlags.unspecified, 1: x509.ReasonFlags.key_compromise,
                2: x509.ReasonFlags.ca_compromise, 3: x509.ReasonFlags.affiliation_changed,
                4: x509.ReasonFlags.superseded, 5: x509.ReasonFlags.cessation_of_operation,
                6: x509.ReasonFlags.certificate_hold, 9: x509.ReasonFlags.privilege_withdrawn,
                10: x509.ReasonFlags.aa_compromise}


def die(message):
    print(f"ocsp_fixtures: {message}", file=sys.stderr)
    sys.exit(1)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data, mode=0o644):
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    os.chmod(path, mode)


def load_pems(path):
    text = read(path)
    marker = b"-----END CERTIFICATE-----"
    return [x509.load_pem_x509_certificate(part + marker + b"\n")
            for part in text.split(marker) if part.strip()]


def serial_hex(number):
    text = format(number, "X")
    return text if len(text) % 2 == 0 else "0" + text


# --------------------------------------------------------------------------------------------
def issue(target, root_file, cert_file, key_file, proto_dir, count, directory):
    import grpc
    with tempfile.TemporaryDirectory() as out_dir:
        subprocess.run(
            ["protoc", f"-I{proto_dir}", f"--python_out={out_dir}", f"--grpc_out={out_dir}",
             "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin",
             "keyline/v1/common.proto", "keyline/v1/admin.proto"], check=True)
        sys.path.insert(0, out_dir)
        from keyline.v1 import admin_pb2, admin_pb2_grpc, common_pb2

        credentials = grpc.ssl_channel_credentials(
            root_certificates=read(root_file), private_key=read(key_file),
            certificate_chain=read(cert_file))
        stub = admin_pb2_grpc.AdminServiceStub(grpc.secure_channel(target, credentials))

        def one(index):
            key = ec.generate_private_key(ec.SECP256R1())
            csr = (x509.CertificateSigningRequestBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                               f"bench-ocsp-{index}")]))
                   .sign(key, hashes.SHA256()))
            return stub.IssueOperatorCertificate(
                admin_pb2.IssueOperatorCertificateRequest(
                    role=common_pb2.ROLE_GATEWAY, name=f"bench-ocsp-{index}",
                    csr=csr.public_bytes(serialization.Encoding.DER)),
                timeout=60).certificate

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            issued = list(pool.map(one, range(count)))

    os.makedirs(f"{directory}/keyline", exist_ok=True)
    leaves = [x509.load_der_x509_certificate(item.certificate) for item in issued]
    issuer = x509.load_der_x509_certificate(issued[0].chain[0])
    write(f"{directory}/keyline/certs.pem",
          b"".join(leaf.public_bytes(serialization.Encoding.PEM) for leaf in leaves))
    write(f"{directory}/keyline/issuer.pem", issuer.public_bytes(serialization.Encoding.PEM))
    lines = [f"serial {serial_hex(leaf.serial_number).lower()} {REASONS[(i // 10) % len(REASONS)]}"
             for i, leaf in enumerate(leaves) if i % 10 == 0]
    write(f"{directory}/revoke.txt", "".join(line + "\n" for line in lines))
    print(f"issued {len(leaves)} certificates; {len(lines)} to revoke")


# --------------------------------------------------------------------------------------------
def read_statuses(path):
    """serial (int) -> None for good, or (revoked_at datetime, reason code)."""
    statuses = {}
    for line in read(path).decode().split("\n"):
        if not line.strip():
            continue
        fields = line.strip().split("|")
        serial = int(fields[0], 16)
        if fields[1] == "good":
            statuses[serial] = None
        elif fields[1] == "revoked":
            statuses[serial] = (datetime.datetime.fromtimestamp(int(float(fields[2])),
                                                                datetime.timezone.utc),
                                int(fields[3]))
        else:
            die(f"{path}: bad status line {line!r}")
    return statuses


def request_der(leaf, issuer, nonce=None):
    builder = ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, hashes.SHA1())
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


def write_requests(directory, leaves, issuer, nonce_templates, base_path):
    """GET paths are base_path (the responder's URL path, ending in '/') + the request."""
    ders = [request_der(leaf, issuer) for leaf in leaves]
    write(f"{directory}/post.hex", "".join(der.hex() + "\n" for der in ders))
    write(f"{directory}/get.txt",
          "".join(base_path + urllib.parse.quote(base64.b64encode(der).decode(), safe="") + "\n"
                  for der in ders))
    nonces = []
    for i in range(nonce_templates):
        der = request_der(leaves[i % len(leaves)], issuer, os.urandom(NONCE_OCTETS))
        nonces.append(der.hex() + "\n")
    write(f"{directory}/nonce.hex", "".join(nonces))


def name_of(common_name):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Keyline Bench Peer"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def reissue(leaf, ca, ca_key):
    """The same serial, subject, key and validity, issued by `ca`."""
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (x509.CertificateBuilder()
            .subject_name(leaf.subject).issuer_name(ca.subject)
            .public_key(leaf.public_key()).serial_number(leaf.serial_number)
            .not_valid_before(leaf.not_valid_before).not_valid_after(leaf.not_valid_after)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))


def build(directory, status_file, nonce_templates):
    statuses = read_statuses(status_file)
    leaves = load_pems(f"{directory}/keyline/certs.pem")
    issuer = load_pems(f"{directory}/keyline/issuer.pem")[0]
    if sorted(leaf.serial_number for leaf in leaves) != sorted(statuses):
        die(f"{status_file} does not name exactly the issued certificates")
    write_requests(f"{directory}/keyline", leaves, issuer, nonce_templates, "/ocsp/")

    # The peers' CA: a software P-256 key (cfssl and openssl need the key in a file).
    peer = f"{directory}/peer"
    os.makedirs(peer, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (x509.CertificateBuilder()
          .subject_name(name_of("Peer Operators CA")).issuer_name(name_of("Peer Operators CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .add_extension(ca_ski, critical=False)
          .sign(ca_key, hashes.SHA256()))
    aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski)
    responder_key = ec.generate_private_key(ec.SECP256R1())
    responder = (x509.CertificateBuilder()
                 .subject_name(name_of("Peer OCSP responder")).issuer_name(ca.subject)
                 .public_key(responder_key.public_key()).serial_number(x509.random_serial_number())
                 .not_valid_before(now - datetime.timedelta(days=1))
                 .not_valid_after(now + datetime.timedelta(days=30))
                 .add_extension(x509.KeyUsage(True, False, False, False, False, False, False,
                                              False, False), critical=True)
                 .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]),
                                critical=False)
                 .add_extension(x509.OCSPNoCheck(), critical=False)
                 .add_extension(aki, critical=False)
                 .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    write(f"{peer}/ca.pem", ca.public_bytes(pem))
    write(f"{peer}/responder.pem", responder.public_bytes(pem))
    for name, key in (("ca-key.pem", ca_key), ("responder-key.pem", responder_key)):
        write(f"{peer}/{name}", key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()), 0o600)

    # The same serials, subjects and keys, issued by the peer CA.
    peer_leaves = [reissue(leaf, ca, ca_key) for leaf in leaves]
    write(f"{peer}/certs.pem", b"".join(leaf.public_bytes(pem) for leaf in peer_leaves))
    write_requests(peer, peer_leaves, ca, nonce_templates, "/")

    # cfssl's certdb rows (cfssl 1.2: serial as decimal text, AKI as lower-case hex text).
    aki_hex = ca_ski.digest.hex()
    sql = ["BEGIN;"]
    index = []
    for leaf in peer_leaves:
        status = statuses[leaf.serial_number]
        expiry = leaf.not_valid_after.strftime("%Y-%m-%d %H:%M:%S+00")
        leaf_pem = leaf.public_bytes(pem).decode()
        openssl_expiry = leaf.not_valid_after.strftime("%y%m%d%H%M%SZ")
        subject = "/" + "/".join(f"{attribute.oid._name}={attribute.value}"
                                 for attribute in leaf.subject)
        if status is None:
            sql.append(f"INSERT INTO certificates VALUES ('{leaf.serial_number}', '{aki_hex}', "
                       f"'', 'good', 0, '{expiry}', '0001-01-01 00:00:00+00', '{leaf_pem}');")
            index.append(f"V\t{openssl_expiry}\t\t{serial_hex(leaf.serial_number)}\tunknown\t"
                         f"{subject}\n")
        else:
            revoked_at, reason = status
            sql.append(f"INSERT INTO certificates VALUES ('{leaf.serial_number}', '{aki_hex}', "
                       f"'', 'revoked', {reason}, '{expiry}', "
                       f"'{revoked_at.strftime('%Y-%m-%d %H:%M:%S+00')}', '{leaf_pem}');")
            index.append(f"R\t{openssl_expiry}\t{revoked_at.strftime('%y%m%d%H%M%SZ')},"
                         f"{REASON_CODES[reason]}\t{serial_hex(leaf.serial_number)}\tunknown\t"
                         f"{subject}\n")
    sql.append("COMMIT;")
    write(f"{peer}/certdb.sql", "\n".join(sql) + "\n")
    write(f"{peer}/index.txt", "".join(index))
    write(f"{peer}/index.txt.attr", "unique_subject = no\n")
    revoked = sum(1 for status in statuses.values() if status is not None)
    print(f"requests for {len(leaves)} certificates ({revoked} revoked), {nonce_templates} nonce "
          f"templates")


# --------------------------------------------------------------------------------------------
def check(url, method, requests_file, status_file, issuer_file, with_nonce):
    statuses = read_statuses(status_file)
    issuer = load_pems(issuer_file)[0]
    parsed = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    lines = [line for line in read(requests_file).decode().split("\n") if line.strip()]
    ok = 0
    problems = []
    http_codes = {}
    for line in lines:
        if method == "post":
            der = bytes.fromhex(line)
            if with_nonce:
                der = der[:-NONCE_OCTETS] + os.urandom(NONCE_OCTETS)
            asked = ocsp.load_der_ocsp_request(der)
        else:
            asked = ocsp.load_der_ocsp_request(
                base64.b64decode(urllib.parse.unquote(line.rsplit("/", 1)[1])))
        try:
            if method == "post":
                connection.request("POST", parsed.path or "/", body=der,
                                   headers={"Content-Type": "application/ocsp-request"})
            else:
                connection.request("GET", line)
            reply = connection.getresponse()
            body = reply.read()
            status = reply.status
            if reply.will_close:
                connection.close()
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            status = type(error).__name__
        http_codes[status] = http_codes.get(status, 0) + 1
        if status != 200:
            problem = f"HTTP {status}"
        else:
            problem = check_response(body, asked, statuses, issuer, with_nonce)
        if problem is None:
            ok += 1
        else:
            problems.append(f"serial {serial_hex(asked.serial_number)}: {problem}")
    codes = ",".join(f"{code}:{count}" for code, count in sorted(http_codes.items(), key=str))
    print(f"check: ok={ok} bad={len(problems)} http={codes}")
    for problem in problems[:5]:
        print(f"  {problem}", file=sys.stderr)
    sys.exit(0 if not problems else 1)


def check_response(body, asked, statuses, issuer, with_nonce):
    try:
        response = ocsp.load_der_ocsp_response(body)
    except ValueError as error:
        return f"unparsable response ({error})"
    if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        return f"responseStatus {response.response_status.name}"
    if response.serial_number != asked.serial_number:
        return f"answers serial {serial_hex(response.serial_number)}"
    if response.issuer_key_hash != asked.issuer_key_hash:
        return "answers another issuer"
    expected = statuses.get(asked.serial_number, "unknown")
    status = response.certificate_status
    if expected == "unknown":
        if status != ocsp.OCSPCertStatus.UNKNOWN:
            return f"{status.name}, expected UNKNOWN"
    elif expected is None:
        if status != ocsp.OCSPCertStatus.GOOD:
            return f"{status.name}, expected GOOD"
    else:
        revoked_at, reason = expected
        if status != ocsp.OCSPCertStatus.REVOKED:
            return f"{status.name}, expected REVOKED"
        when = response.revocation_time.replace(tzinfo=datetime.timezone.utc)
        if abs((when - revoked_at).total_seconds()) > 1:
            return f"revoked at {when}, expected {revoked_at}"
        got_reason = response.revocation_reason
        if got_reason is not None and got_reason != REASON_FLAGS[reason]:
            return f"reason {got_reason}, expected {REASON_FLAGS[reason]}"
        if got_reason is None and reason != 0:
            return f"no reason, expected {REASON_FLAGS[reason]}"
    signer = issuer
    if response.certificates:
        signer = response.certificates[0]
        try:
            issuer.public_key().verify(signer.signature, signer.tbs_certificate_bytes,
                                       ec.ECDSA(signer.signature_hash_algorithm))
        except InvalidSignature:
            return "responder certificate not issued by the CA"
        eku = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        if ExtendedKeyUsageOID.OCSP_SIGNING not in eku:
            return "responder certificate lacks id-kp-OCSPSigning"
    try:
        signer.public_key().verify(response.signature, response.tbs_response_bytes,
                                   ec.ECDSA(response.signature_hash_algorithm))
    except InvalidSignature:
        return "signature does not verify"
    if with_nonce:
        try:
            echoed = response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
        except x509.ExtensionNotFound:
            return "nonce not echoed"
        sent = asked.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
        if echoed != sent:
            return "another nonce echoed"
    return None


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "issue" and len(sys.argv) == 9:
        issue(*sys.argv[2:7], int(sys.argv[7]), sys.argv[8])
    elif len(sys.argv) >= 2 and sys.argv[1] == "build" and len(sys.argv) == 5:
        build(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) >= 2 and sys.argv[1] == "check" and len(sys.argv) in (7, 8):
        check(*sys.argv[2:7], with_nonce=len(sys.argv) == 8 and sys.argv[7] == "--nonce")
    else:
        die("usage: see the top of this file")


if __name__ == "__main__":
    main()
