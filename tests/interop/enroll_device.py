#!/usr/bin/python3
"""Interop: one full zero-touch enrollment by a client Keyline did not write (Python grpcio with
stubs generated from proto/ by protoc, keys from python3-cryptography): as a factory station it
gets an attestation certificate for an attestation key it made, as an admin it claims the device,
and as the device (TLS without a client certificate) it enrolls a fresh deployment key, computing
the proof exactly as proto/keyline/v1/enrollment.proto documents it.

usage:
  enroll_device.py TARGET ROOT_PEM ADMIN_CERT ADMIN_KEY FACTORY_CERT FACTORY_KEY PROTO_DIR SERIAL
      the whole journey (tests); prints "OK <certificate serial>" when every check holds
  enroll_device.py --enroll-only TARGET ROOT_PEM PROTO_DIR SERIAL DEPLOYMENT ATTESTATION_KEY_PEM
                   ATTESTATION_CERT_PEM OUT_PREFIX
      just the device's part, for a device a station registered and an admin claimed (the demo);
      writes OUT_PREFIX.crt (leaf + deployment CA) and OUT_PREFIX.key
"""
import hashlib
import struct
import subprocess
import sys
import tempfile
import uuid

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def read(path):
    with open(path, "rb") as f:
        return f.read()


def csr_for(key, name):
    return (x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))


def load_stubs(proto_dir, out_dir):
    subprocess.run(
            ["protoc", f"-I{proto_dir}", f"--python_out={out_dir}", f"--grpc_out={out_dir}",
             "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin", "keyline/v1/common.proto",
             "keyline/v1/admin.proto", "keyline/v1/factory.proto", "keyline/v1/enrollment.proto"],
            check=True)
    sys.path.insert(0, out_dir)


def channel(target, root, cert=None, key=None):
    if cert:
        credentials = grpc.ssl_channel_credentials(
            root_certificates=root, private_key=read(key), certificate_chain=read(cert))
    else:
        credentials = grpc.ssl_channel_credentials(root_certificates=root)
    return grpc.secure_channel(target, credentials)


def enroll(enrollment, enrollment_pb2, serial, attestation_key, attestation_der):
    """The device's part: challenge, fresh key, proof, certificate. Returns (response, key)."""
    challenge = enrollment.BeginEnrollment(
        enrollment_pb2.BeginEnrollmentRequest(device_serial=serial,
                                              attestation_chain=[attestation_der]),
        timeout=60)
    assert len(challenge.nonce) == 32 and len(challenge.challenge_id) == 16
    deployment_key = ec.generate_private_key(ec.SECP256R1())
    spki = deployment_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    serial_bytes = serial.encode()
    message = (b"keyline-enrollment-proof-v1\x00" + challenge.nonce +
               struct.pack(">H", len(serial_bytes)) + serial_bytes +
               hashlib.sha256(spki).digest())
    proof = attestation_key.sign(message, ec.ECDSA(hashes.SHA256()))
    response = enrollment.CompleteEnrollment(
        enrollment_pb2.CompleteEnrollmentRequest(
            challenge_id=challenge.challenge_id, csr=csr_for(deployment_key, serial),
            proof=proof, request_id=str(uuid.uuid4())),
        timeout=60)
    return response, deployment_key


def check_certificate(response, deployment_key, serial, deployment):
    certificate = x509.load_der_x509_certificate(response.certificate.certificate)
    assert certificate.public_key().public_numbers() == deployment_key.public_key().public_numbers()
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    assert uris == [f"urn:keyline:{deployment}:device:{serial}"], uris
    eku = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH], list(eku)
    issuer = x509.load_der_x509_certificate(response.certificate.chain[0])
    issuer.public_key().verify(certificate.signature, certificate.tbs_certificate_bytes,
                               ec.ECDSA(certificate.signature_hash_algorithm))
    assert response.ocsp_url.endswith("/ocsp") and response.crl_url.endswith(".crl")
    return certificate, issuer


def enroll_only(argv):
    (target, root_file, proto_dir, serial, deployment, key_file, cert_file, out_prefix) = argv
    with tempfile.TemporaryDirectory() as out_dir:
        load_stubs(proto_dir, out_dir)
        from keyline.v1 import enrollment_pb2, enrollment_pb2_grpc
        attestation_key = serialization.load_pem_private_key(read(key_file), password=None)
        attestation_der = x509.load_pem_x509_certificate(read(cert_file)).public_bytes(
            serialization.Encoding.DER)
        enrollment = enrollment_pb2_grpc.EnrollmentServiceStub(channel(target, read(root_file)))
        response, deployment_key = enroll(enrollment, enrollment_pb2, serial, attestation_key,
                                          attestation_der)
        certificate, issuer = check_certificate(response, deployment_key, serial, deployment)
        with open(out_prefix + ".crt", "wb") as f:
            f.write(certificate.public_bytes(serialization.Encoding.PEM) +
                    issuer.public_bytes(serialization.Encoding.PEM))
        with open(out_prefix + ".key", "wb") as f:
            f.write(deployment_key.private_bytes(serialization.Encoding.PEM,
                                                 serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
        print("enrolled", serial, "serial", response.certificate.serial)


def main():
    if sys.argv[1] == "--enroll-only":
        return enroll_only(sys.argv[2:10])
    (target, root_file, admin_cert, admin_key, factory_cert, factory_key, proto_dir,
     serial) = sys.argv[1:9]
    with tempfile.TemporaryDirectory() as out_dir:
        load_stubs(proto_dir, out_dir)
        from keyline.v1 import (admin_pb2, admin_pb2_grpc, enrollment_pb2, enrollment_pb2_grpc,
                                factory_pb2, factory_pb2_grpc)
        root = read(root_file)

        # Factory: the secure element's attestation key gets its attestation certificate.
        attestation_key = ec.generate_private_key(ec.SECP256R1())
        factory = factory_pb2_grpc.FactoryServiceStub(channel(target, root, factory_cert, factory_key))
        issued = factory.IssueAttestationCertificates(
            factory_pb2.IssueAttestationCertificatesRequest(
                manufacturer="keyline",
                devices=[factory_pb2.AttestationRequest(
                    device_serial=serial, hardware_model="Python Sensor",
                    csr=csr_for(attestation_key, serial))]),
            timeout=60)
        attestation_der = issued.certificates[0].certificate
        # An independent X.509 parser reads the attestation profile (its Keyline OIDs included).
        attestation = x509.load_der_x509_certificate(attestation_der)
        policies = attestation.extensions.get_extension_for_class(x509.CertificatePolicies).value
        assert [p.policy_identifier.dotted_string for p in policies] == [
            "2.25.121543564.1.1"], policies
        eku = attestation.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert ExtendedKeyUsageOID.CLIENT_AUTH not in list(eku), list(eku)

        # Admin: claim it for the deployment.
        admin = admin_pb2_grpc.AdminServiceStub(channel(target, root, admin_cert, admin_key))
        admin.ClaimDevices(admin_pb2.ClaimDevicesRequest(deployment="default",
                                                         device_serials=[serial]), timeout=60)

        # Device: challenge, fresh key, proof, certificate.
        enrollment = enrollment_pb2_grpc.EnrollmentServiceStub(channel(target, root))
        response, deployment_key = enroll(enrollment, enrollment_pb2, serial, attestation_key,
                                          attestation_der)
        check_certificate(response, deployment_key, serial, "default")
        # The device's proof over another nonce is refused, with the field named.
        try:
            again = enrollment.BeginEnrollment(
                enrollment_pb2.BeginEnrollmentRequest(device_serial=serial,
                                                      attestation_chain=[attestation_der]),
                timeout=60)
            spki = deployment_key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
            stale = (b"keyline-enrollment-proof-v1\x00" + b"\x00" * 32 +
                     struct.pack(">H", len(serial)) + serial.encode() +
                     hashlib.sha256(spki).digest())
            proof = attestation_key.sign(stale, ec.ECDSA(hashes.SHA256()))
            enrollment.CompleteEnrollment(
                enrollment_pb2.CompleteEnrollmentRequest(
                    challenge_id=again.challenge_id, csr=csr_for(deployment_key, serial),
                    proof=proof, request_id=str(uuid.uuid4())),
                timeout=60)
            raise AssertionError("a proof over another nonce was accepted")
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.UNAUTHENTICATED, error.code()
            assert "proof" in error.details(), error.details()
        print("OK", response.certificate.serial)


if __name__ == "__main__":
    main()
