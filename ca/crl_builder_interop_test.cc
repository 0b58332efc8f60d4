// The CRLs CrlBuilder signs, checked by other implementations: the openssl and certtool (GnuTLS)
// command lines and python3-cryptography.
#include <openssl/pem.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>

#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ca/crl_builder.h"
#include "ca/crl_test_pki.h"
#include "common/absl_compat.h"
#include "common/files.h"

namespace keyline::ca {
namespace {

constexpr int kKeyCompromise = 1;
constexpr int kSuperseded = 4;

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string CrlPem(std::string_view der) {
  X509CrlPtr crl = ParseCrl(der);
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!crl || PEM_write_bio_X509_CRL(bio.get(), crl.get()) != 1) return "";
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(length));
}

// python3-cryptography's view: argv = crl.der ca.pem crl_number base|- idp_url serial_hex:reason...
constexpr std::string_view kPythonCheck = R"(
import sys
from cryptography import x509
crl = x509.load_der_x509_crl(open(sys.argv[1], 'rb').read())
ca = x509.load_pem_x509_certificate(open(sys.argv[2], 'rb').read())
assert crl.is_signature_valid(ca.public_key()), 'signature'
assert crl.issuer == ca.subject, 'issuer'
assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == int(sys.argv[3])
if sys.argv[4] == '-':
    try:
        crl.extensions.get_extension_for_class(x509.DeltaCRLIndicator)
        raise AssertionError('delta indicator in a full CRL')
    except x509.ExtensionNotFound:
        pass
else:
    delta = crl.extensions.get_extension_for_class(x509.DeltaCRLIndicator)
    assert delta.critical and delta.value.crl_number == int(sys.argv[4]), 'delta indicator'
idp = crl.extensions.get_extension_for_class(x509.IssuingDistributionPoint)
assert idp.critical and idp.value.full_name[0].value == sys.argv[5], 'idp'
aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
assert aki.key_identifier == ski.digest, 'aki'
names = {0: None, 1: x509.ReasonFlags.key_compromise, 4: x509.ReasonFlags.superseded}
expected = {int(s, 16): names[int(r)] for s, r in (a.split(':') for a in sys.argv[6:])}
listed = {entry.serial_number: entry for entry in crl}
assert set(listed) == set(expected), ('serials', sorted(listed), sorted(expected))
for serial, reason in expected.items():
    try:
        got = listed[serial].extensions.get_extension_for_class(x509.CRLReason).value.reason
    except x509.ExtensionNotFound:
        got = None
    assert got == reason, ('reason', serial, got, reason)
print('python-ok')
)";

class CrlInteropTest : public CrlTestPki {
 protected:
  void SetUp() override {
    CrlTestPki::SetUp();
    std::string pattern = ::testing::TempDir() + "/crl_interop_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    builder_ = NewBuilder();
    ASSERT_NE(builder_, nullptr);
    Write("root.pem", DerToPem(root_.der));
    Write("ca.pem", DerToPem(ca_.der));
    Write("check.py", kPythonCheck);
  }
  void TearDown() override { RunCommand("rm -rf " + dir_); }

  std::string Path(std::string_view name) const { return absl::StrCat(dir_, "/", AsAbsl(name)); }
  void Write(std::string_view name, std::string_view contents) {
    ASSERT_TRUE(WriteFileAtomically(Path(name), contents).ok());
  }
  void Revoke(const TestCertificate& leaf, int reason) {
    ASSERT_TRUE(*builder_->Add(leaf.serial, now_ - absl::Minutes(1), reason));
  }
  std::string WriteCrl(std::string_view name, const BuiltCrl& built) {
    Write(absl::StrCat(AsAbsl(name), ".der"), *built.der);
    Write(absl::StrCat(AsAbsl(name), ".pem"), CrlPem(*built.der));
    return Path(absl::StrCat(AsAbsl(name), ".pem"));
  }
  BuiltCrl Full(uint64_t number) {
    auto built = builder_->BuildFull(number, now_ - absl::Minutes(1), now_ + absl::Hours(24),
                                     *ca_key_);
    EXPECT_TRUE(built.ok()) << built.status();
    return *built;
  }
  BuiltCrl Delta(uint64_t number, uint64_t base) {
    auto built = builder_->BuildDelta(number, base, now_ - absl::Minutes(1),
                                      now_ + absl::Hours(1), *ca_key_);
    EXPECT_TRUE(built.ok()) << built.status();
    return *built;
  }
  // `openssl verify` of a leaf against the root, with the CA as intermediate and `crl_files`.
  CommandResult Verify(const TestCertificate& leaf, std::string_view crl_files,
                       std::string_view flags = "") {
    Write("leaf.pem", DerToPem(leaf.der));
    return RunCommand(absl::StrCat("openssl verify -crl_check ", AsAbsl(flags), " -CAfile ",
                            Path("root.pem"), " -untrusted ", Path("ca.pem"), " ",
                            AsAbsl(crl_files), " ", Path("leaf.pem")));
  }

  std::string dir_;
  std::unique_ptr<CrlBuilder> builder_;
};

TEST_F(CrlInteropTest, OpensslCrlVerifiesTheSignature) {
  const TestCertificate leaf = IssueLeaf("dev-1");
  Revoke(leaf, kKeyCompromise);
  WriteCrl("full", Full(1));
  CommandResult result = RunCommand(absl::StrCat("openssl crl -inform DER -in ", Path("full.der"),
                                          " -noout -text -CAfile ", Path("ca.pem")));
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("verify OK"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("Key Compromise"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("X509v3 Issuing Distribution Point: critical"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("X509v3 Freshest CRL"), std::string::npos) << result.output;

  // The check can fail: another CA's certificate does not verify it.
  result = RunCommand(absl::StrCat("openssl crl -inform DER -in ", Path("full.der"),
                            " -noout -CAfile ", Path("root.pem")));
  EXPECT_EQ(result.output.find("verify OK"), std::string::npos) << result.output;
}

TEST_F(CrlInteropTest, OpensslVerifyRejectsTheRevokedLeafAndAcceptsAGoodOne) {
  const TestCertificate revoked = IssueLeaf("dev-revoked");
  const TestCertificate good = IssueLeaf("dev-good");
  Revoke(revoked, kKeyCompromise);
  const std::string crl = WriteCrl("full", Full(1));

  CommandResult result = Verify(revoked, "-CRLfile " + crl);
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("certificate revoked"), std::string::npos) << result.output;
  result = Verify(good, "-CRLfile " + crl);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find(": OK"), std::string::npos) << result.output;
}

TEST_F(CrlInteropTest, OpensslVerifyWithDeltasRejectsALeafRevokedOnlyInTheDelta) {
  const TestCertificate early = IssueLeaf("dev-early");
  const TestCertificate late = IssueLeaf("dev-late");
  const TestCertificate good = IssueLeaf("dev-good");
  Revoke(early, kSuperseded);
  const std::string full = WriteCrl("full", Full(1));
  Revoke(late, kKeyCompromise);
  const std::string delta = WriteCrl("delta", Delta(2, 1));

  // Without the delta the late revocation is not visible yet: this is what the delta adds.
  CommandResult result = Verify(late, "-CRLfile " + full, "-use_deltas");
  EXPECT_EQ(result.exit_code, 0) << result.output;

  const std::string both = absl::StrCat("-CRLfile ", full, " -CRLfile ", delta);
  result = Verify(late, both, "-use_deltas");
  EXPECT_NE(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("certificate revoked"), std::string::npos) << result.output;
  result = Verify(early, both, "-use_deltas");
  EXPECT_NE(result.output.find("certificate revoked"), std::string::npos) << result.output;
  // Without -use_deltas OpenSSL ignores the delta (and would refuse a lone delta CRL).
  result = Verify(late, both);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  result = Verify(good, both, "-use_deltas");
  EXPECT_EQ(result.exit_code, 0) << result.output;
}

TEST_F(CrlInteropTest, CerttoolVerifiesTheSignature) {
  Revoke(IssueLeaf("dev-1"), kKeyCompromise);
  const std::string full = WriteCrl("full", Full(1));
  Revoke(IssueLeaf("dev-2"), kSuperseded);
  const std::string delta = WriteCrl("delta", Delta(2, 1));
  for (const std::string& crl : {full, delta}) {
    CommandResult result = RunCommand(absl::StrCat("certtool --verify-crl --load-ca-certificate ",
                                            Path("ca.pem"), " --infile ", crl));
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_NE(result.output.find("Verification output: Verified."), std::string::npos)
        << result.output;
  }
  CommandResult info = RunCommand(absl::StrCat("certtool --crl-info --inder --infile ", Path("full.der")));
  EXPECT_EQ(info.exit_code, 0) << info.output;
  EXPECT_NE(info.output.find("CRL Number (not critical): 01"), std::string::npos) << info.output;
  EXPECT_NE(info.output.find("Revoked certificates (1):"), std::string::npos) << info.output;
  // And a CRL signed by another key is refused.
  CommandResult wrong = RunCommand(absl::StrCat("certtool --verify-crl --load-ca-certificate ",
                                         Path("root.pem"), " --infile ", full));
  EXPECT_NE(wrong.exit_code, 0) << wrong.output;
}

TEST_F(CrlInteropTest, PythonCryptographyAgrees) {
  const TestCertificate first = IssueLeaf("dev-1");
  const TestCertificate second = IssueLeaf("dev-2");
  const TestCertificate third = IssueLeaf("dev-3");
  Revoke(first, kKeyCompromise);
  Revoke(second, 0);
  WriteCrl("full", Full(10));
  Revoke(third, kSuperseded);
  WriteCrl("delta", Delta(11, 10));
  auto hex = [](const TestCertificate& leaf) { return absl::BytesToHexString(leaf.serial); };

  CommandResult result = RunCommand(absl::StrCat(
      "python3 ", Path("check.py"), " ", Path("full.der"), " ", Path("ca.pem"), " 10 - ",
      CrlUrlOfCa(), " ", hex(first), ":1 ", hex(second), ":0"));
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("python-ok"), std::string::npos) << result.output;
  result = RunCommand(absl::StrCat("python3 ", Path("check.py"), " ", Path("delta.der"), " ",
                            Path("ca.pem"), " 11 10 ", CrlUrlOfCa(), " ", hex(third), ":4"));
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("python-ok"), std::string::npos) << result.output;
  // The script can fail: the root's key does not verify the CA's CRL.
  result = RunCommand(absl::StrCat("python3 ", Path("check.py"), " ", Path("delta.der"), " ",
                            Path("root.pem"), " 11 10 ", CrlUrlOfCa(), " ", hex(third), ":4"));
  EXPECT_NE(result.exit_code, 0) << result.output;
}

}  // namespace
}  // namespace keyline::ca
