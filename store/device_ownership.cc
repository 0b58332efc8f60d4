// DeviceRepository's ownership half: claims with ownership vouchers (device_repository.h).
#include <pqxx/binarystring>
#include <pqxx/result>
#include <string>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "store/audit_appender.h"
#include "store/device_repository.h"
#include "store/field_checks.h"
#include "store/sql_text.h"
#include "store/timestamps.h"

namespace keyline::store {
namespace {

// Refuses device_serials[i] when an earlier entry had the same serial; `first` maps the serials
// seen so far to their index.
absl::Status CheckNotRepeated(std::unordered_map<std::string_view, size_t>& first,
                              std::string_view serial, size_t i) {
  if (const auto [it, inserted] = first.emplace(serial, i); !inserted) {
    return absl::InvalidArgumentError(absl::StrCat(IndexedField("device_serials", i), ": repeats ",
                                                   IndexedField("device_serials", it->second)));
  }
  return absl::OkStatus();
}

absl::Status ValidateVouchers(const std::vector<VoucherRecord>& vouchers) {
  std::unordered_map<std::string_view, size_t> first;
  for (size_t i = 0; i < vouchers.size(); ++i) {
    const VoucherRecord& voucher = vouchers[i];
    KEYLINE_RETURN_IF_ERROR(
        CheckNonEmptyText(voucher.device_serial, IndexedField("device_serials", i)));
    KEYLINE_RETURN_IF_ERROR(CheckNonEmptyText(voucher.owner, IndexedField("vouchers", i, "owner")));
    KEYLINE_RETURN_IF_ERROR(
        CheckNonEmptyBytes(voucher.signed_voucher, IndexedField("vouchers", i, "signed_voucher")));
    KEYLINE_RETURN_IF_ERROR(
        TimestamptzParam(voucher.expires_at, IndexedField("vouchers", i, "expires_at")).status());
    KEYLINE_RETURN_IF_ERROR(CheckNotRepeated(first, voucher.device_serial, i));
  }
  return absl::OkStatus();
}

struct ClaimedDevice {
  std::string state;
  std::optional<std::string> deployment;
};

// What claiming devices serials[i] for owners[i] would do: which are newly claimed, which
// unchanged (claimed by that owner already); NotFound or FailedPrecondition naming the first
// device that refuses the whole claim. `lock`: FOR UPDATE, for a claim that goes on to write.
struct ClaimPlan {
  std::unordered_map<std::string, ClaimedDevice> devices;
  std::vector<size_t> newly_claimed;
  std::vector<size_t> unchanged;
};
absl::StatusOr<ClaimPlan> PlanClaim(pqxx::work& tx, const std::vector<std::string_view>& serials,
                                    const std::vector<std::string_view>& owners, bool lock) {
  ClaimPlan plan;
  // In serial order, as every transaction that locks several devices does.
  for (const pqxx::row& row :
       tx.exec_params(absl::StrCat("SELECT serial, state, deployment FROM devices "
                                   "WHERE serial = ANY ($1::text[]) ORDER BY serial",
                                   lock ? " FOR UPDATE" : ""),
                      TextArrayParam(serials))) {
    plan.devices[row[0].as<std::string>()] = {row[1].as<std::string>(),
                                              NullableField<std::string>(row[2])};
  }
  for (size_t i = 0; i < serials.size(); ++i) {
    const auto it = plan.devices.find(std::string(serials[i]));
    if (it == plan.devices.end()) {
      return absl::NotFoundError(
          absl::StrCat(IndexedField("device_serials", i), ": no device ", AsAbsl(serials[i])));
    }
    const ClaimedDevice& device = it->second;
    if (device.state == "decommissioned") {
      return absl::FailedPreconditionError(absl::StrCat(IndexedField("device_serials", i),
                                                        ": device ", AsAbsl(serials[i]),
                                                        " is decommissioned"));
    }
    if (device.state == "registered") {
      plan.newly_claimed.push_back(i);
    } else if (device.deployment == owners[i]) {
      plan.unchanged.push_back(i);
    } else {
      // The other owner is another tenant: not named.
      return absl::FailedPreconditionError(absl::StrCat(IndexedField("device_serials", i),
                                                        ": device ", AsAbsl(serials[i]),
                                                        " is claimed by another deployment"));
    }
  }
  return plan;
}

}  // namespace

absl::StatusOr<ClaimResult> DeviceRepository::Claim(const std::vector<VoucherRecord>& vouchers,
                                                    const std::string& actor,
                                                    const std::string& action) {
  KEYLINE_RETURN_IF_ERROR(CheckNonEmptyText(actor, "actor"));
  KEYLINE_RETURN_IF_ERROR(CheckNonEmptyText(action, "action"));
  KEYLINE_RETURN_IF_ERROR(ValidateVouchers(vouchers));
  if (vouchers.empty()) return ClaimResult{};

  std::vector<std::string_view> serials;
  std::vector<std::string_view> owners;
  std::vector<std::string> expiries;
  std::vector<std::string_view> signed_vouchers;
  for (const VoucherRecord& voucher : vouchers) {
    serials.push_back(voucher.device_serial);
    owners.push_back(voucher.owner);
    expiries.push_back(FormatRfc3339Micros(voucher.expires_at));
    signed_vouchers.push_back(voucher.signed_voucher);
  }

  return pool_.WithTransaction("claim devices", [&](pqxx::work& tx) -> absl::StatusOr<ClaimResult> {
    KEYLINE_ASSIGN_OR_RETURN(ClaimPlan plan, PlanClaim(tx, serials, owners, /*lock=*/true));
    const std::unordered_map<std::string, ClaimedDevice>& devices = plan.devices;
    const std::vector<size_t>& newly_claimed = plan.newly_claimed;
    const std::vector<size_t>& unchanged = plan.unchanged;

    // Vouchers being replaced, to audit only real replacements (a retried claim changes nothing).
    std::unordered_map<std::string, std::string> previous_vouchers;
    if (!unchanged.empty()) {
      for (const pqxx::row& row :
           tx.exec_params("SELECT device_serial, signed FROM vouchers "
                          "WHERE device_serial = ANY ($1::text[])",
                          TextArrayParam(serials))) {
        previous_vouchers[row[0].as<std::string>()] = pqxx::binarystring(row[1]).str();
      }
    }

    std::vector<std::string_view> claimed_serials;
    std::vector<std::string_view> claimed_owners;
    for (size_t i : newly_claimed) {
      claimed_serials.push_back(serials[i]);
      claimed_owners.push_back(owners[i]);
    }
    tx.exec_params(
        "WITH claimed AS (UPDATE devices SET state = 'claimed', deployment = c.owner, "
        "claimed_at = now() FROM unnest($1::text[], $2::text[]) AS c(serial, owner) "
        "WHERE devices.serial = c.serial) "
        "INSERT INTO vouchers (device_serial, owner, expires_at, signed) "
        "SELECT * FROM unnest($3::text[], $4::text[], $5::timestamptz[], $6::bytea[]) "
        "ON CONFLICT (device_serial) DO UPDATE SET owner = EXCLUDED.owner, "
        "expires_at = EXCLUDED.expires_at, signed = EXCLUDED.signed",
        TextArrayParam(claimed_serials), TextArrayParam(claimed_owners), TextArrayParam(serials),
        TextArrayParam(owners), TextArrayParam(expiries), ByteaArrayParam(signed_vouchers));

    std::vector<AuditEvent> events;
    for (size_t i = 0; i < vouchers.size(); ++i) {
      const VoucherRecord& voucher = vouchers[i];
      const auto previous = previous_vouchers.find(voucher.device_serial);
      const bool is_new = devices.at(voucher.device_serial).state == "registered";
      if (!is_new && previous != previous_vouchers.end() &&
          previous->second == voucher.signed_voucher) {
        continue;  // the same voucher again: nothing changed
      }
      events.push_back({actor, is_new ? action : "device.voucher.replaced", voucher.device_serial,
                        {{"deployment", voucher.owner}, {"voucher_expires_at", expiries[i]}}});
    }
    std::vector<const AuditEvent*> event_pointers;
    for (const AuditEvent& event : events) event_pointers.push_back(&event);
    KEYLINE_RETURN_IF_ERROR(AppendAuditEvents(tx, event_pointers).status());
    return ClaimResult{static_cast<int>(newly_claimed.size()), static_cast<int>(unchanged.size())};
  });
}

absl::StatusOr<ClaimResult> DeviceRepository::CheckClaim(const std::vector<std::string>& serials,
                                                         const std::string& owner) {
  KEYLINE_RETURN_IF_ERROR(CheckNonEmptyText(owner, "owner"));
  std::vector<std::string_view> serial_views;
  std::unordered_map<std::string_view, size_t> first;
  for (size_t i = 0; i < serials.size(); ++i) {
    KEYLINE_RETURN_IF_ERROR(CheckNonEmptyText(serials[i], IndexedField("device_serials", i)));
    KEYLINE_RETURN_IF_ERROR(CheckNotRepeated(first, serials[i], i));
    serial_views.push_back(serials[i]);
  }
  const std::vector<std::string_view> owners(serials.size(), owner);
  return pool_.WithTransaction("check a claim", [&](pqxx::work& tx) -> absl::StatusOr<ClaimResult> {
    KEYLINE_ASSIGN_OR_RETURN(const ClaimPlan plan,
                             PlanClaim(tx, serial_views, owners, /*lock=*/false));
    return ClaimResult{static_cast<int>(plan.newly_claimed.size()),
                       static_cast<int>(plan.unchanged.size())};
  });
}

absl::StatusOr<std::vector<VoucherRecord>> DeviceRepository::FindVouchers(
    const std::vector<std::string>& serials) {
  for (size_t i = 0; i < serials.size(); ++i) {
    KEYLINE_RETURN_IF_ERROR(CheckText(serials[i], IndexedField("device_serials", i)));
  }
  return pool_.WithTransaction(
      "find vouchers", [&](pqxx::work& tx) -> absl::StatusOr<std::vector<VoucherRecord>> {
        std::vector<VoucherRecord> vouchers;
        for (const pqxx::row& row : tx.exec_params(
                 absl::StrCat("SELECT device_serial, owner, ", EpochMicrosSql("expires_at"),
                              ", signed FROM vouchers WHERE device_serial = ANY ($1::text[]) "
                              "ORDER BY device_serial"),
                 TextArrayParam(serials))) {
          vouchers.push_back({row[0].as<std::string>(), row[1].as<std::string>(),
                              FromEpochMicros(row[2].as<int64_t>()),
                              pqxx::binarystring(row[3]).str()});
        }
        return vouchers;
      });
}

}  // namespace keyline::store
