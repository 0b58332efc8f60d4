#include "store/published_crl_repository.h"

#include <pqxx/binarystring>
#include <pqxx/result>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "store/field_checks.h"
#include "store/sql_text.h"
#include "store/timestamps.h"

namespace keyline::store {
namespace {

constexpr size_t kMaxHolderOctets = 200;  // the column's check

const char* Kind(bool delta) { return delta ? "delta" : "full"; }

constexpr char kLeaseLost[] = "the CRL publisher lease has run out or changed hands";

absl::Status LeaseLost() { return absl::FailedPreconditionError(kLeaseLost); }

absl::Status CheckHolder(std::string_view holder) {
  KEYLINE_RETURN_IF_ERROR(CheckNonEmptyText(holder, "holder"));
  if (holder.size() > kMaxHolderOctets) {
    return absl::InvalidArgumentError(
        absl::StrCat("holder: longer than ", kMaxHolderOctets, " octets"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::optional<int64_t>> PublishedCrlRepository::HoldLease(std::string_view holder,
                                                                         absl::Duration length) {
  KEYLINE_RETURN_IF_ERROR(CheckHolder(holder));
  if (length < absl::Milliseconds(1)) {
    return absl::InvalidArgumentError("length: must be at least a millisecond");
  }
  return pool_.WithStatement(
      "hold the CRL publisher lease",
      [&](pqxx::nontransaction& tx) -> absl::StatusOr<std::optional<int64_t>> {
        // Taken when free or run out, renewed when ours; left alone while another's runs. The
        // row lock this takes waits for a Store in flight (its FOR SHARE).
        const pqxx::result rows = tx.exec_params(
            "INSERT INTO crl_publisher_lease (holder, expires_at) "
            "VALUES ($1, now() + $2::bigint * interval '1 microsecond') "
            "ON CONFLICT (singleton) DO UPDATE "
            "SET holder = excluded.holder, expires_at = excluded.expires_at, "
            "term = crl_publisher_lease.term + "
            "(crl_publisher_lease.holder <> excluded.holder)::integer "
            "WHERE crl_publisher_lease.holder = excluded.holder "
            "OR crl_publisher_lease.expires_at <= now() RETURNING term",
            std::string(holder), absl::ToInt64Microseconds(length));
        if (rows.empty()) return std::optional<int64_t>();
        return std::optional<int64_t>(rows[0][0].as<int64_t>());
      });
}

absl::Status PublishedCrlRepository::ReleaseLease(std::string_view holder) {
  KEYLINE_RETURN_IF_ERROR(CheckHolder(holder));
  return pool_.RunStatement("release the CRL publisher lease", [&](pqxx::nontransaction& tx) {
    tx.exec_params(
        "UPDATE crl_publisher_lease SET expires_at = now() "
        "WHERE holder = $1 AND expires_at > now()",
        std::string(holder));
    return absl::OkStatus();
  });
}

absl::Status PublishedCrlRepository::Store(std::string_view holder, int64_t term, int32_t ca_id,
                                           const ca::BuiltCrl& crl) {
  KEYLINE_RETURN_IF_ERROR(CheckHolder(holder));
  if (crl.der == nullptr || crl.der->empty()) {
    return absl::InvalidArgumentError("crl.der: no CRL to store");
  }
  KEYLINE_ASSIGN_OR_RETURN(const std::string this_update,
                           TimestamptzParam(crl.this_update, "crl.this_update"));
  KEYLINE_ASSIGN_OR_RETURN(const std::string next_update,
                           TimestamptzParam(crl.next_update, "crl.next_update"));
  const bool delta = crl.base_crl_number.has_value();
  return pool_.RunTransaction("store a published CRL", [&](pqxx::work& tx) {
    // FOR SHARE: a replica taking the lease over waits for this transaction, and only then reads
    // the revocations its first CRL will list, this CRL's among them.
    const pqxx::result lease = tx.exec_params(
        "SELECT 1 FROM crl_publisher_lease "
        "WHERE holder = $1 AND term = $2 AND expires_at > now() FOR SHARE",
        std::string(holder), term);
    if (lease.empty()) return LeaseLost();
    std::optional<std::string> base;
    if (delta) base = std::to_string(*crl.base_crl_number);
    const pqxx::result stored = tx.exec_params(
        "INSERT INTO published_crls (ca_id, kind, crl_number, base_number, entries, this_update, "
        "next_update, der) VALUES ($1, $2, $3, $4::bigint, $5, $6::timestamptz, $7::timestamptz, "
        "$8::bytea) ON CONFLICT (ca_id, kind) DO UPDATE SET crl_number = excluded.crl_number, "
        "base_number = excluded.base_number, entries = excluded.entries, "
        "this_update = excluded.this_update, next_update = excluded.next_update, der = "
        "excluded.der "
        "WHERE published_crls.crl_number < excluded.crl_number RETURNING 1",
        ca_id, Kind(delta), static_cast<int64_t>(crl.crl_number), base ? base->c_str() : nullptr,
        static_cast<int64_t>(crl.entries), this_update, next_update, ByteaParam(*crl.der));
    if (stored.empty()) {
      return absl::FailedPreconditionError(absl::StrCat("a ", Kind(delta), " CRL numbered ",
                                                        crl.crl_number, " or higher is stored"));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<StoredCrlNumber>> PublishedCrlRepository::Numbers() {
  return pool_.WithStatement(
      "read published CRL numbers",
      [&](pqxx::nontransaction& tx) -> absl::StatusOr<std::vector<StoredCrlNumber>> {
        std::vector<StoredCrlNumber> numbers;
        for (const pqxx::row& row :
             tx.exec("SELECT ca_id, kind = 'delta', crl_number FROM published_crls")) {
          numbers.push_back({row[0].as<int32_t>(), row[1].as<bool>(), row[2].as<uint64_t>()});
        }
        return numbers;
      });
}

absl::StatusOr<ca::BuiltCrl> PublishedCrlRepository::Read(int32_t ca_id, bool delta) {
  return pool_.WithStatement(
      "read a published CRL", [&](pqxx::nontransaction& tx) -> absl::StatusOr<ca::BuiltCrl> {
        const pqxx::result rows = tx.exec_params(
            absl::StrCat("SELECT crl_number, base_number, entries, ", EpochMicrosSql("this_update"),
                         ", ", EpochMicrosSql("next_update"),
                         ", der FROM published_crls WHERE ca_id = $1 AND kind = $2"),
            ca_id, Kind(delta));
        if (rows.empty()) {
          return absl::NotFoundError(
              absl::StrCat("no ", Kind(delta), " CRL of CA ", ca_id, " is stored"));
        }
        const pqxx::row& row = rows[0];
        ca::BuiltCrl crl;
        crl.crl_number = row[0].as<uint64_t>();
        if (!row[1].is_null()) crl.base_crl_number = row[1].as<uint64_t>();
        crl.entries = row[2].as<size_t>();
        crl.this_update = FromEpochMicros(row[3].as<int64_t>());
        crl.next_update = FromEpochMicros(row[4].as<int64_t>());
        crl.der = std::make_shared<const std::string>(pqxx::binarystring(row[5]).str());
        return crl;
      });
}

bool IsLeaseLost(const absl::Status& status) {
  return absl::IsFailedPrecondition(status) && status.message() == kLeaseLost;
}

}  // namespace keyline::store
