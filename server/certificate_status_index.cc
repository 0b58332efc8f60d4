#include "server/certificate_status_index.h"

#include <mutex>

namespace keyline::server {

std::optional<CertificateStatusIndex::Key> CertificateStatusIndex::KeyOf(std::string_view serial) {
  while (!serial.empty() && serial.front() == '\0') serial.remove_prefix(1);
  if (serial.empty() || serial.size() > 20) return std::nullopt;
  Key key;
  key.length = static_cast<uint8_t>(serial.size());
  std::copy(serial.begin(), serial.end(), key.bytes.begin());
  return key;
}

void CertificateStatusIndex::RegisterIssuer(const ocsp::OcspIssuer* issuer, int32_t ca_id) {
  std::unique_lock lock(mutex_);
  issuers_[issuer] = ca_id;
}

CertificateStatusIndex::Change CertificateStatusIndex::Apply(
    const store::CertificateStatusRow& row) {
  const std::optional<Key> key = KeyOf(row.serial);
  if (!key) return Change::kNone;  // the schema never stores such a serial
  std::unique_lock lock(mutex_);
  auto [it, inserted] = entries_.try_emplace(*key, Entry{row.issuer_id});
  Entry& entry = it->second;
  if (!row.revoked || entry.reason >= 0) return inserted ? Change::kIssued : Change::kNone;
  entry.reason = static_cast<int8_t>(row.reason);
  entry.revoked_at_seconds = absl::ToUnixSeconds(row.revoked_at);
  return Change::kRevoked;
}

absl::StatusOr<ocsp::CertificateStatus> CertificateStatusIndex::Lookup(
    const ocsp::OcspIssuer& issuer, std::string_view serial) const {
  ocsp::CertificateStatus status;  // kUnknown
  const std::optional<Key> key = KeyOf(serial);
  if (!key) return status;
  std::shared_lock lock(mutex_);
  const auto ca = issuers_.find(&issuer);
  const auto it = entries_.find(*key);
  if (ca == issuers_.end() || it == entries_.end() || it->second.ca_id != ca->second) {
    return status;
  }
  if (it->second.reason < 0) {
    status.kind = ocsp::CertificateStatus::Kind::kGood;
  } else {
    status.kind = ocsp::CertificateStatus::Kind::kRevoked;
    status.revoked_at = absl::FromUnixSeconds(it->second.revoked_at_seconds);
    status.reason = it->second.reason;
  }
  return status;
}

bool CertificateStatusIndex::IsRevoked(std::string_view serial) const {
  const std::optional<Key> key = KeyOf(serial);
  if (!key) return false;
  std::shared_lock lock(mutex_);
  const auto it = entries_.find(*key);
  return it != entries_.end() && it->second.reason >= 0;
}

size_t CertificateStatusIndex::size() const {
  std::shared_lock lock(mutex_);
  return entries_.size();
}

}  // namespace keyline::server
