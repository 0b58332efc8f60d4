// Interop with relying-party software we did not write: the OpenSSL CLI (`openssl ocsp`) and
// python3-cryptography read and verify the responder's answers, and their requests are answered.
// Real time is used: `openssl ocsp` checks thisUpdate/nextUpdate against the clock.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "ca/certificate_der.h"
#include "ocsp/ocsp_responder.h"
#include "ocsp/testing/command.h"
#include "ocsp/testing/in_memory_status_source.h"
#include "ocsp/testing/test_pki.h"

namespace keyline::ocsp {
namespace {

using testing::CommandResult;
using testing::InMemoryStatusSource;
using testing::RunCommand;
using testing::TempDirectory;
using testing::TestLeaf;
using testing::TestPki;

// Reads a response the way an application would and prints what it found; verifies the
// signature with the signer certificate's key (argv: response, signer PEM, [request to build]).
constexpr std::string_view kPythonChecker = R"PY(
import sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp

if sys.argv[1] == "request":
    cert = x509.load_pem_x509_certificate(open(sys.argv[2], "rb").read())
    issuer = x509.load_pem_x509_certificate(open(sys.argv[3], "rb").read())
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA256())
    builder = builder.add_extension(x509.OCSPNonce(bytes(range(20))), critical=False)
    open(sys.argv[4], "wb").write(builder.build().public_bytes(serialization.Encoding.DER))
    sys.exit(0)

response = ocsp.load_der_ocsp_response(open(sys.argv[1], "rb").read())
signer = x509.load_pem_x509_certificate(open(sys.argv[2], "rb").read())
assert response.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
signer.public_key().verify(response.signature, response.tbs_response_bytes,
                           ec.ECDSA(response.signature_hash_algorithm))
assert [c.serial_number for c in response.certificates] == [signer.serial_number]
# responderID byKey: SHA-1 of the subjectPublicKey BIT STRING value (the EC point).
digest = hashes.Hash(hashes.SHA1())
digest.update(signer.public_key().public_bytes(serialization.Encoding.X962,
                                               serialization.PublicFormat.UncompressedPoint))
assert response.responder_key_hash == digest.finalize(), "responderID byKey"
for single in response.responses:
    print("status", single.certificate_status.name, "serial", format(single.serial_number, "x"),
          "reason", single.revocation_reason.name if single.revocation_reason else "none",
          "hash", single.hash_algorithm.name,
          "validity", int((single.next_update - single.this_update).total_seconds()))
try:
    print("nonce", response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce.hex())
except x509.ExtensionNotFound:
    print("nonce none")
print("signature verified")
)PY";

class OcspInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pki = TestPki::Create();
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = *std::move(pki);
    for (const char* name : {"sensor-good", "sensor-revoked", "sensor-unknown"}) {
      auto leaf = pki_->IssueLeaf(name);
      ASSERT_TRUE(leaf.ok()) << leaf.status();
      leaves_.push_back(*std::move(leaf));
    }
    source_->SetGood(leaves_[0].serial);
    source_->SetRevoked(leaves_[1].serial, absl::Now() - absl::Hours(1), 1);
    auto responder = OcspResponder::New(OcspResponderOptions(), source_);
    ASSERT_TRUE(responder.ok());
    responder_ = *std::move(responder);
    responder_->AddIssuer(pki_->issuer());
    ca_pem_ = dir_.Write("ca.pem", pki_->ca_pem());
    chain_pem_ = dir_.Write("chain.pem", pki_->chain_pem());
    signer_pem_ = dir_.Write("signer.pem", ca::DerToPem(pki_->signer_der()));
    checker_ = dir_.Write("check.py", kPythonChecker);
    for (size_t i = 0; i < leaves_.size(); ++i) {
      leaf_pems_.push_back(dir_.Write(absl::StrCat("leaf", i, ".pem"), leaves_[i].pem));
    }
  }

  CommandResult Run(const std::vector<std::string>& argv) {
    auto result = RunCommand(argv);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : CommandResult{};
  }

  // `openssl ocsp -reqout` (options `extra` first: digests must precede -cert), the responder's
  // answer, then two checks by the CLI: with -reqin (signature, delegation and, when the request
  // had one, the nonce), and with -cert (the certificate's status). Returns both outputs.
  std::string RoundTripThroughOpensslCli(int leaf, const std::vector<std::string>& extra) {
    std::vector<std::string> make = {"openssl", "ocsp"};
    make.insert(make.end(), extra.begin(), extra.end());
    make.insert(make.end(), {"-issuer", ca_pem_, "-cert", leaf_pems_[leaf], "-reqout",
                             dir_.path() + "/req.der"});
    const CommandResult made = Run(make);
    EXPECT_EQ(made.exit_code, 0) << made.output;
    const OcspAnswer answer = responder_->Answer(dir_.Read("req.der"), absl::Now());
    EXPECT_EQ(answer.status, OcspResponseStatus::kSuccessful) << answer.detail;
    dir_.Write("resp.der", *answer.body);
    const CommandResult verified =
        Run({"openssl", "ocsp", "-reqin", dir_.path() + "/req.der", "-respin",
             dir_.path() + "/resp.der", "-CAfile", chain_pem_});
    EXPECT_EQ(verified.exit_code, 0) << verified.output;
    // -cert builds a request of its own (with a nonce unless -no_nonce): no nonce check here.
    std::vector<std::string> status = {"openssl", "ocsp"};
    status.insert(status.end(), extra.begin(), extra.end());
    status.insert(status.end(), {"-no_nonce", "-respin", dir_.path() + "/resp.der", "-issuer",
                                 ca_pem_, "-cert", leaf_pems_[leaf], "-CAfile", chain_pem_});
    const CommandResult checked = Run(status);
    EXPECT_EQ(checked.exit_code, 0) << checked.output;
    return verified.output + "\n---\n" + checked.output;
  }

  std::string Python(const std::vector<std::string>& arguments) {
    // Debian's python3 with python3-cryptography (38 on bookworm), not whatever is first on PATH.
    std::vector<std::string> argv = {"/usr/bin/python3", checker_};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    const CommandResult result = Run(argv);
    EXPECT_EQ(result.exit_code, 0) << result.output;
    return result.output;
  }

  TempDirectory dir_;
  std::unique_ptr<TestPki> pki_;
  std::vector<TestLeaf> leaves_;
  std::shared_ptr<InMemoryStatusSource> source_ = std::make_shared<InMemoryStatusSource>();
  std::unique_ptr<OcspResponder> responder_;
  std::string ca_pem_, chain_pem_, signer_pem_, checker_;
  std::vector<std::string> leaf_pems_;
};

TEST_F(OcspInteropTest, OpensslCliVerifiesGoodRevokedAndUnknownWithNonce) {
  const std::string good = RoundTripThroughOpensslCli(0, {});
  EXPECT_NE(good.find("Response verify OK"), std::string::npos) << good;
  EXPECT_NE(good.find(leaf_pems_[0] + ": good"), std::string::npos) << good;
  EXPECT_EQ(good.find("WARNING"), std::string::npos) << good;  // nonce echoed and checked

  const std::string revoked = RoundTripThroughOpensslCli(1, {});
  EXPECT_NE(revoked.find("Response verify OK"), std::string::npos) << revoked;
  EXPECT_NE(revoked.find(leaf_pems_[1] + ": revoked"), std::string::npos) << revoked;
  EXPECT_NE(revoked.find("Reason: keyCompromise"), std::string::npos) << revoked;

  const std::string unknown = RoundTripThroughOpensslCli(2, {});
  EXPECT_NE(unknown.find("Response verify OK"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find(leaf_pems_[2] + ": unknown"), std::string::npos) << unknown;
}

TEST_F(OcspInteropTest, OpensslCliVerifiesPresignedSha256Answers) {
  // No nonce: the answer comes from the pre-signed cache (second round trip: the hot path).
  for (int round = 0; round < 2; ++round) {
    const std::string output = RoundTripThroughOpensslCli(0, {"-sha256", "-no_nonce"});
    EXPECT_NE(output.find("Response verify OK"), std::string::npos) << output;
    EXPECT_NE(output.find(leaf_pems_[0] + ": good"), std::string::npos) << output;
  }
  EXPECT_EQ(responder_->stats().hot_hits, 1u);
}

TEST_F(OcspInteropTest, OpensslCliRejectsAResponseForAnotherNonce) {
  // Sanity check of the harness: a response to a different request must fail the nonce check.
  const CommandResult made =
      Run({"openssl", "ocsp", "-issuer", ca_pem_, "-cert", leaf_pems_[0], "-reqout",
           dir_.path() + "/req.der"});
  ASSERT_EQ(made.exit_code, 0);
  const OcspAnswer answer = responder_->Answer(dir_.Read("req.der"), absl::Now());
  dir_.Write("resp.der", *answer.body);
  const CommandResult remade =
      Run({"openssl", "ocsp", "-issuer", ca_pem_, "-cert", leaf_pems_[0], "-reqout",
           dir_.path() + "/other.der"});
  ASSERT_EQ(remade.exit_code, 0);
  const CommandResult checked =
      Run({"openssl", "ocsp", "-reqin", dir_.path() + "/other.der", "-respin",
           dir_.path() + "/resp.der", "-CAfile", chain_pem_});
  EXPECT_NE(checked.exit_code, 0);
  EXPECT_NE(checked.output.find("Nonce Verify error"), std::string::npos) << checked.output;
}

TEST_F(OcspInteropTest, PythonCryptographyParsesAndVerifies) {
  // A request built by python3-cryptography (SHA-256 CertID, 20-octet nonce) ...
  const std::string request_path = dir_.path() + "/py-req.der";
  Python({"request", leaf_pems_[1], ca_pem_, request_path});
  const OcspAnswer answer = responder_->Answer(dir_.Read("py-req.der"), absl::Now());
  ASSERT_EQ(answer.status, OcspResponseStatus::kSuccessful) << answer.detail;
  // ... is answered, and the answer reads back there with a valid signature.
  dir_.Write("py-resp.der", *answer.body);
  const std::string output = Python({dir_.path() + "/py-resp.der", signer_pem_});
  EXPECT_NE(output.find("status REVOKED"), std::string::npos) << output;
  EXPECT_NE(output.find("reason key_compromise"), std::string::npos) << output;
  EXPECT_NE(output.find("hash sha256"), std::string::npos) << output;
  EXPECT_NE(output.find("validity 3600"), std::string::npos) << output;
  EXPECT_NE(output.find("nonce 000102030405060708090a0b0c0d0e0f10111213"), std::string::npos)
      << output;
  EXPECT_NE(output.find("signature verified"), std::string::npos) << output;

  // A pre-signed SHA-1 answer for a good certificate, without nonce.
  const CommandResult made =
      Run({"openssl", "ocsp", "-issuer", ca_pem_, "-cert", leaf_pems_[0], "-no_nonce",
           "-reqout", dir_.path() + "/req.der"});
  ASSERT_EQ(made.exit_code, 0);
  const OcspAnswer good = responder_->Answer(dir_.Read("req.der"), absl::Now());
  dir_.Write("good.der", *good.body);
  const std::string good_output = Python({dir_.path() + "/good.der", signer_pem_});
  EXPECT_NE(good_output.find("status GOOD"), std::string::npos) << good_output;
  EXPECT_NE(good_output.find("hash sha1"), std::string::npos) << good_output;
  EXPECT_NE(good_output.find("nonce none"), std::string::npos) << good_output;
  EXPECT_NE(good_output.find("signature verified"), std::string::npos) << good_output;
}

}  // namespace
}  // namespace keyline::ocsp
