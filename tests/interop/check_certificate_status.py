#!/usr/bin/python3
"""Interop: a relying party Keyline did not write (python3-cryptography, urllib) asks Keyline's
status listener about one certificate, both ways, and trusts nothing it did not verify itself.

OCSP: the responder URL comes from the certificate's AIA. One POST with a SHA-256 CertID and a
nonce (a freshly signed answer that must echo it) and one GET with a SHA-1 CertID and no nonce (the
pre-signed answer, base64 in the path, percent-encoded). Each response: successful, signed by a
delegated responder certificate that the issuer signed (id-kp-OCSPSigning, id-pkix-ocsp-nocheck,
valid now), for this CertID, thisUpdate <= now < nextUpdate. Both answers must agree.

CRL: the URL comes from the certificate's CRL distribution point; the full CRL and the delta CRL
its Freshest CRL extension names are both verified against the issuer's key (issuer name, CRL
number, Delta CRL Indicator naming a base no newer than the full CRL); the certificate's status is
the union of the two lists. A revocation time in OCSP and in the CRL must be the same.

usage: check_certificate_status.py CERT_PEM ISSUER_PEM
prints, when every check holds (exit 0):
  ocsp <good|revoked <reason>|unknown>
  crl <good|revoked <reason>>
anything that does not verify: a message on stderr, exit 1.
"""
import base64
import datetime
import os
import sys
import urllib.parse
import urllib.request

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID


class CheckFailed(Exception):
    pass


def require(condition, message):
    if not condition:
        raise CheckFailed(message)


def verify_signature(public_key, signature, data, hash_algorithm, what):
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(hash_algorithm))
        elif isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), hash_algorithm)
        elif isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, data)
        else:
            raise CheckFailed(f"{what}: unsupported key type {type(public_key).__name__}")
    except InvalidSignature:
        raise CheckFailed(f"{what}: signature does not verify")


def fetch(url, data=None, content_type=None):
    request = urllib.request.Request(url, data=data)
    if content_type:
        request.add_header("Content-Type", content_type)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.headers.get("Content-Type"), response.read()


def now():
    return datetime.datetime.utcnow()


def extension(holder, extension_class):
    try:
        return holder.extensions.get_extension_for_class(extension_class).value
    except x509.ExtensionNotFound:
        return None


def check_responder(response, issuer):
    """The certificate that signed `response`: a delegated responder the issuer signed."""
    candidates = []
    for certificate in response.certificates:
        if response.responder_key_hash is not None:
            # ResponderID byKey: SHA-1 of the subjectPublicKey BIT STRING's value (RFC 6960
            # 4.2.1), which is how from_public_key computes a key identifier.
            key_hash = x509.SubjectKeyIdentifier.from_public_key(certificate.public_key()).digest
            if response.responder_key_hash == key_hash:
                candidates.append(certificate)
        elif certificate.subject == response.responder_name:
            candidates.append(certificate)
    require(len(candidates) == 1, "ocsp: the response does not carry its signer's certificate")
    responder = candidates[0]
    require(responder.issuer == issuer.subject, "ocsp: responder certificate not from the issuer")
    verify_signature(issuer.public_key(), responder.signature, responder.tbs_certificate_bytes,
                     responder.signature_hash_algorithm, "ocsp responder certificate")
    eku = extension(responder, x509.ExtendedKeyUsage)
    require(eku is not None and ExtendedKeyUsageOID.OCSP_SIGNING in eku,
            "ocsp: responder certificate lacks id-kp-OCSPSigning")
    require(extension(responder, x509.OCSPNoCheck) is not None,
            "ocsp: responder certificate lacks id-pkix-ocsp-nocheck")
    require(responder.not_valid_before <= now() < responder.not_valid_after,
            "ocsp: responder certificate not valid now")
    return responder


def check_ocsp_response(der, certificate, issuer, algorithm, nonce):
    response = ocsp.load_der_ocsp_response(der)
    require(response.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL,
            f"ocsp: response status {response.response_status}")
    responder = check_responder(response, issuer)
    verify_signature(responder.public_key(), response.signature, response.tbs_response_bytes,
                     response.signature_hash_algorithm, "ocsp response")
    single = list(response.responses)
    require(len(single) == 1, f"ocsp: {len(single)} single responses for one CertID")
    single = single[0]
    require(single.serial_number == certificate.serial_number, "ocsp: answer for another serial")
    require(isinstance(single.hash_algorithm, type(algorithm)),
            "ocsp: CertID hash algorithm differs")
    expected = ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, algorithm).build()
    require(single.issuer_name_hash == expected.issuer_name_hash and
            single.issuer_key_hash == expected.issuer_key_hash,
            "ocsp: CertID names another issuer")
    require(single.this_update <= now(), "ocsp: thisUpdate in the future")
    require(single.next_update is not None and now() < single.next_update,
            "ocsp: nextUpdate missing or past")
    echoed = extension(response, x509.OCSPNonce)
    if nonce is None:
        require(echoed is None, "ocsp: a nonce in the answer to a request without one")
    else:
        require(echoed is not None and echoed.nonce == nonce, "ocsp: nonce not echoed")
    if single.certificate_status == ocsp.OCSPCertStatus.GOOD:
        return ("good", None, None)
    if single.certificate_status == ocsp.OCSPCertStatus.UNKNOWN:
        return ("unknown", None, None)
    reason = single.revocation_reason.name if single.revocation_reason else "unspecified"
    return ("revoked", reason, single.revocation_time)


def check_ocsp(certificate, issuer):
    aia = extension(certificate, x509.AuthorityInformationAccess)
    require(aia is not None, "certificate: no AIA extension")
    urls = [d.access_location.value for d in aia
            if d.access_method == AuthorityInformationAccessOID.OCSP]
    require(len(urls) == 1, "certificate: no single OCSP URL in the AIA")
    url = urls[0]

    nonce = os.urandom(32)
    request = (ocsp.OCSPRequestBuilder()
               .add_certificate(certificate, issuer, hashes.SHA256())
               .add_extension(x509.OCSPNonce(nonce), critical=False).build())
    status, content_type, body = fetch(url, request.public_bytes(serialization.Encoding.DER),
                                       "application/ocsp-request")
    require(status == 200 and content_type == "application/ocsp-response",
            f"ocsp POST: HTTP {status} {content_type}")
    posted = check_ocsp_response(body, certificate, issuer, hashes.SHA256(), nonce)

    request = ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, hashes.SHA1()).build()
    encoded = base64.b64encode(request.public_bytes(serialization.Encoding.DER)).decode()
    status, content_type, body = fetch(url.rstrip("/") + "/" + urllib.parse.quote(encoded, safe=""))
    require(status == 200 and content_type == "application/ocsp-response",
            f"ocsp GET: HTTP {status} {content_type}")
    got = check_ocsp_response(body, certificate, issuer, hashes.SHA1(), None)
    require(posted == got, f"ocsp: POST says {posted}, GET says {got}")
    return posted


def check_crl(der, issuer, what):
    crl = x509.load_der_x509_crl(der)
    require(crl.issuer == issuer.subject, f"{what}: issued by someone else")
    require(crl.is_signature_valid(issuer.public_key()), f"{what}: signature does not verify")
    require(crl.last_update <= now(), f"{what}: thisUpdate in the future")
    require(crl.next_update is not None and now() < crl.next_update,
            f"{what}: nextUpdate missing or past")
    require(extension(crl, x509.CRLNumber) is not None, f"{what}: no CRL number")
    return crl


def crl_entry(crl, serial):
    entry = crl.get_revoked_certificate_by_serial_number(serial)
    if entry is None:
        return None
    reason = extension(entry, x509.CRLReason)
    return (reason.reason.name if reason else "unspecified", entry.revocation_date)


def check_crls(certificate, issuer):
    points = extension(certificate, x509.CRLDistributionPoints)
    require(points is not None, "certificate: no CRL distribution point")
    urls = [name.value for point in points for name in (point.full_name or [])
            if isinstance(name, x509.UniformResourceIdentifier)]
    require(len(urls) == 1, "certificate: no single CRL URL")
    # The full CRL may be replaced between the two downloads; a delta is usable with a full CRL
    # at least as new as its base (RFC 5280 5.2.4), so fetch the pair again if it is not.
    for _ in range(5):
        status, content_type, body = fetch(urls[0])
        require(status == 200 and content_type == "application/pkix-crl",
                f"crl: HTTP {status} {content_type}")
        full = check_crl(body, issuer, "full crl")
        require(extension(full, x509.DeltaCRLIndicator) is None, "full crl: is a delta")
        freshest = extension(full, x509.FreshestCRL)
        require(freshest is not None, "full crl: no Freshest CRL extension")
        delta_urls = [name.value for point in freshest for name in (point.full_name or [])
                      if isinstance(name, x509.UniformResourceIdentifier)]
        require(len(delta_urls) == 1, "full crl: no single delta CRL URL")
        status, content_type, body = fetch(delta_urls[0])
        require(status == 200 and content_type == "application/pkix-crl",
                f"delta crl: HTTP {status} {content_type}")
        delta = check_crl(body, issuer, "delta crl")
        indicator = extension(delta, x509.DeltaCRLIndicator)
        require(indicator is not None, "delta crl: no Delta CRL Indicator")
        full_number = extension(full, x509.CRLNumber).crl_number
        require(extension(delta, x509.CRLNumber).crl_number > indicator.crl_number,
                "delta crl: numbered before its base")
        if indicator.crl_number <= full_number:
            break
    else:
        raise CheckFailed("crl: no delta CRL that applies to the full CRL")
    found = crl_entry(full, certificate.serial_number) or crl_entry(delta,
                                                                   certificate.serial_number)
    return ("good", None, None) if found is None else ("revoked",) + found


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], "rb") as f:
        certificate = x509.load_pem_x509_certificate(f.read())
    with open(sys.argv[2], "rb") as f:
        issuer = x509.load_pem_x509_certificate(f.read())
    try:
        by_ocsp = check_ocsp(certificate, issuer)
        by_crl = check_crls(certificate, issuer)
        if by_ocsp[0] == "revoked" and by_crl[0] == "revoked":
            require(by_ocsp[2].replace(microsecond=0) == by_crl[2].replace(microsecond=0),
                    f"revocation time: OCSP {by_ocsp[2]}, CRL {by_crl[2]}")
    except CheckFailed as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    print(" ".join(["ocsp"] + [part for part in by_ocsp[:2] if part]))
    print(" ".join(["crl"] + [part for part in by_crl[:2] if part]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
