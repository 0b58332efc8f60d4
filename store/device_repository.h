// Devices and their ownership: registration by factory stations (attestation certificates),
// claims by deployments (with ownership vouchers), decommissioning. Every change commits with its
// audit events in one transaction. Thread-safe (each call takes a pooled connection).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "absl/status/statusor.h"
#include "store/connection_pool.h"
#include "store/records.h"

namespace keyline::store {

struct DeviceRegistration {
  DeviceRecord device;  // serial, manufacturer_id, hardware_model, attestation certificate/chain/key hash
  // The attestation certificate when Keyline issued it (stored in certificates with the device
  // serial); nullopt for certificates of external vendors.
  std::optional<CertificateRecord> issued_certificate;
};

struct RegistrationResult {
  int newly_registered() const { return static_cast<int>(registered.size()); }
  int unchanged = 0;
  // The serials this call registered, with their issued certificates. The others were registered
  // before with the same key (or by a concurrent batch that committed first): their stored
  // attestation certificates stand, and those of the batch were not stored.
  std::unordered_set<std::string> registered;
};

struct VoucherRecord {
  std::string device_serial;
  std::string owner;  // deployment
  absl::Time expires_at;
  std::string signed_voucher;  // SignedVoucher message bytes
};

struct ClaimResult {
  int claimed = 0;
  int unchanged = 0;  // already claimed by the same deployment (voucher replaced)
};

// One of a device's certificates: what GetDevice lists and decommissioning would revoke.
struct DeviceCertificate {
  std::string serial;  // raw
  bool good = false;   // status 'good': not revoked (it may have expired)
};

struct DecommissionResult {
  DeviceRecord device;
  bool decommissioned_now = false;                       // false: it already was
  std::vector<std::string> revoked_certificate_serials;  // hex, sorted: what this call revoked
};

class DeviceRepository {
 public:
  explicit DeviceRepository(ConnectionPool& pool) : pool_(pool) {}

  // Registers the batch atomically. A serial already registered with the same attestation key
  // hash is unchanged (its stored certificate is not replaced); one registered with a different
  // key fails the whole batch with AlreadyExists "devices[<index>].device_serial: <serial> is
  // registered with a different attestation key". Duplicate serials within the batch:
  // InvalidArgument naming the second ("devices[4].device_serial: repeats devices[1]..."), also
  // for a repeated issued_certificate serial. Every manufacturer must exist and be trusted
  // (FailedPrecondition "devices[i].manufacturer_id: ..."); an issued certificate whose serial is
  // stored fails the batch with AlreadyExists. registered_by is `actor`; state must be
  // "registered" (InvalidArgument otherwise). One audit event "device.registered" per new device,
  // actor `actor`, details {manufacturer_id, hardware_model, attestation_certificate_serial (hex,
  // when issued)}.
  [[nodiscard]] absl::StatusOr<RegistrationResult> Register(
      const std::vector<DeviceRegistration>& batch, const std::string& actor);

  // NotFound when unknown. Includes manufacturer_name.
  [[nodiscard]] absl::StatusOr<DeviceRecord> Find(std::string_view serial);
  // The devices among `serials` that exist (any order).
  [[nodiscard]] absl::StatusOr<std::vector<DeviceRecord>> FindMany(
      const std::vector<std::string>& serials);

  // Claims devices for a deployment with their vouchers, atomically: every device must exist
  // (NotFound "device_serials[i]: ..."), not be decommissioned or claimed by another deployment
  // (FailedPrecondition naming it). registered -> claimed; claimed/enrolled by the same
  // deployment: unchanged, voucher replaced. Audit `action` per newly claimed device and
  // "device.voucher.replaced" per unchanged device whose voucher bytes differ (details:
  // deployment, voucher_expires_at). Repeated serials: InvalidArgument.
  [[nodiscard]] absl::StatusOr<ClaimResult> Claim(const std::vector<VoucherRecord>& vouchers,
                                                  const std::string& actor,
                                                  const std::string& action = "device.claimed");

  // What Claim would do for `serials` claimed by `owner`, with its refusals, changing nothing.
  // InvalidArgument for an empty owner, an empty or repeated serial.
  [[nodiscard]] absl::StatusOr<ClaimResult> CheckClaim(const std::vector<std::string>& serials,
                                                       const std::string& owner);

  [[nodiscard]] absl::StatusOr<std::vector<VoucherRecord>> FindVouchers(
      const std::vector<std::string>& serials);

  // state -> decommissioned and every good certificate of the device revoked (reason 5,
  // cessationOfOperation, at now), one transaction, audit "device.decommissioned" (details: reason,
  // revoked_certificate_serials in hex). NotFound when unknown; already decommissioned: the
  // record, no change (decommissioned_now false, nothing revoked). Its row lock (FOR UPDATE) also
  // waits for transactions storing a certificate for the device, so none stays good behind a
  // decommissioning.
  [[nodiscard]] absl::StatusOr<DecommissionResult> Decommission(std::string_view serial,
                                                                const std::string& actor,
                                                                const std::string& reason);

  // The device's certificates, newest first (empty for an unknown device).
  [[nodiscard]] absl::StatusOr<std::vector<DeviceCertificate>> Certificates(
      std::string_view device_serial);

 private:
  ConnectionPool& pool_;
};

}  // namespace keyline::store
