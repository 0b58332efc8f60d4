#!/usr/bin/python3
"""Interop: a client Keyline did not write (Python grpcio, stubs generated from proto/ by protoc)
asks for an operator certificate with a key it made itself (python3-cryptography), then checks
the answer independently.

usage: issue_operator_certificate.py TARGET ROOT_PEM ADMIN_CERT_PEM ADMIN_KEY_PEM PROTO_DIR
Prints "OK <serial>" and exits 0 when every check holds.
"""
import subprocess
import sys
import tempfile

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def generate_stubs(proto_dir, out_dir):
    subprocess.run(
        ["protoc", f"-I{proto_dir}", f"--python_out={out_dir}", f"--grpc_out={out_dir}",
         "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin",
         "keyline/v1/common.proto", "keyline/v1/admin.proto"],
        check=True)
    sys.path.insert(0, out_dir)


def main():
    target, root_file, cert_file, key_file, proto_dir = sys.argv[1:6]
    with tempfile.TemporaryDirectory() as out_dir:
        generate_stubs(proto_dir, out_dir)
        from keyline.v1 import admin_pb2, admin_pb2_grpc, common_pb2

        def read(path):
            with open(path, "rb") as f:
                return f.read()

        credentials = grpc.ssl_channel_credentials(
            root_certificates=read(root_file), private_key=read(key_file),
            certificate_chain=read(cert_file))
        stub = admin_pb2_grpc.AdminServiceStub(grpc.secure_channel(target, credentials))

        key = ec.generate_private_key(ec.SECP256R1())
        csr = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "python")]))
               .sign(key, hashes.SHA256()))
        response = stub.IssueOperatorCertificate(
            admin_pb2.IssueOperatorCertificateRequest(
                role=common_pb2.ROLE_GATEWAY, name="py-gateway",
                csr=csr.public_bytes(serialization.Encoding.DER)),
            timeout=30)

        issued = response.certificate
        certificate = x509.load_der_x509_certificate(issued.certificate)
        assert certificate.public_key().public_numbers() == key.public_key().public_numbers()
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
        assert uris == ["urn:keyline:role:gateway:py-gateway"], uris
        eku = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH], list(eku)
        assert format(certificate.serial_number, "x") == issued.serial.lstrip("0"), issued.serial
        issuer = x509.load_der_x509_certificate(issued.chain[0])
        issuer.public_key().verify(certificate.signature, certificate.tbs_certificate_bytes,
                                   ec.ECDSA(certificate.signature_hash_algorithm))
        root = x509.load_der_x509_certificate(issued.chain[-1])
        assert root.public_bytes(serialization.Encoding.PEM) == read(root_file)

        # A rejection arrives as a gRPC status with the field named.
        try:
            stub.IssueOperatorCertificate(
                admin_pb2.IssueOperatorCertificateRequest(
                    role=common_pb2.ROLE_GATEWAY, name="",
                    csr=csr.public_bytes(serialization.Encoding.DER)),
                timeout=30)
            raise AssertionError("an empty name was accepted")
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error.code()
            assert "name: empty" in error.details(), error.details()
        print("OK", issued.serial)


if __name__ == "__main__":
    main()
