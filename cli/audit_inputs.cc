#include "cli/audit_inputs.h"

#include <openssl/x509v3.h>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "ca/certificate_der.h"
#include "ca/chain_verifier.h"
#include "ca/keyline_oids.h"
#include "cli/output.h"
#include "common/status_macros.h"
#include "store/timestamps.h"

namespace keyline::cli {
namespace {

// Compared by OID rather than NID: a NID registered after the certificate was parsed would not
// be attached to the parsed object.
bool HasAuditSigningUsage(const X509* certificate) {
  const Asn1ObjectPtr audit_signing(OBJ_txt2obj(ca::kAuditSigningKeyUsageOid, /*no_name=*/1));
  ExtendedKeyUsagePtr usage(static_cast<EXTENDED_KEY_USAGE*>(
      X509_get_ext_d2i(certificate, NID_ext_key_usage, nullptr, nullptr)));
  if (!audit_signing || !usage) return false;
  for (int i = 0; i < sk_ASN1_OBJECT_num(usage.get()); ++i) {
    if (OBJ_cmp(sk_ASN1_OBJECT_value(usage.get(), i), audit_signing.get()) == 0) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<store::AuditRow> AuditRowFromRecord(const keyline::v1::AuditRecord& record) {
  store::AuditRow row;
  row.seq = record.seq();
  const auto& time = record.occurred_at();
  row.occurred_at =
      absl::FromUnixSeconds(time.seconds()) + absl::Microseconds(time.nanos() / 1000);
  const std::string text = store::FormatRfc3339Micros(row.occurred_at);
  if (record.occurred_at_text() != text) {
    return absl::DataLossError(absl::StrCat("row ", row.seq, ": occurred_at (", text,
                                            ") and occurred_at_text (\"",
                                            record.occurred_at_text(), "\") disagree"));
  }
  row.event.actor = record.actor();
  row.event.action = record.action();
  row.event.target = record.target();
  row.event.details = nlohmann::json::parse(record.details_json(), nullptr, false);
  if (row.event.details.is_discarded()) {
    return absl::DataLossError(absl::StrCat("row ", row.seq, ": details are not valid JSON"));
  }
  row.prev_hash = record.prev_hash();
  row.row_hash = record.row_hash();
  return row;
}

SignedCheckpoint CheckpointFromProto(const keyline::v1::AuditCheckpoint& checkpoint) {
  SignedCheckpoint signed_checkpoint{checkpoint.seq(), checkpoint.row_hash(),
                                     checkpoint.signature(), std::nullopt};
  if (checkpoint.has_signed_at())
    signed_checkpoint.signed_at = FromTimestamp(checkpoint.signed_at());
  return signed_checkpoint;
}

absl::StatusOr<EvpPkeyPtr> AuditSigningKey(std::string_view certificate_der,
                                           std::string_view roots_pem) {
  if (certificate_der.empty()) {
    return absl::FailedPreconditionError("audit certificate: the server sent none");
  }
  auto certificate = ca::ParseCertificateDer(certificate_der);
  if (!certificate.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("audit certificate: ", certificate.status().message()));
  }
  auto roots = ca::PemToDerChain(roots_pem);
  if (!roots.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--ca: ", roots.status().message()));
  }
  absl::Status verified;
  for (const std::string& root : *roots) {
    verified = ca::VerifyCertificateChain(certificate_der, {}, root);
    if (verified.ok()) break;
  }
  if (!verified.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "audit certificate: does not verify up to the --ca root: ", verified.message()));
  }
  if (!HasAuditSigningUsage(certificate->get())) {
    return absl::FailedPreconditionError(
        "audit certificate: lacks Keyline's audit-signing extended key usage");
  }
  EvpPkeyPtr key(X509_get_pubkey(certificate->get()));
  if (!key) return absl::FailedPreconditionError("audit certificate: unreadable public key");
  return key;
}

}  // namespace keyline::cli
