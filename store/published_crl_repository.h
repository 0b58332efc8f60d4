// The CRLs every replica serves, and the lease that says which replica builds them
// (migrations/0009_crl_publication.sql says why only one may).
//
// The lease holder signs each CRL, then stores it with Store, which checks in the same
// transaction that it still holds the lease; it serves a CRL only once stored. The other replicas
// read what was stored (Numbers, then Read for what is new to them). Thread-safe as the pool.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ca/crl_builder.h"
#include "store/connection_pool.h"

namespace keyline::store {

// Which CRL of a CA, and its number.
struct StoredCrlNumber {
  int32_t ca_id = 0;
  bool delta = false;
  uint64_t crl_number = 0;
};

class PublishedCrlRepository {
 public:
  explicit PublishedCrlRepository(ConnectionPool& pool) : pool_(pool) {}

  // Takes the lease for `holder`, or renews it, until the database's now() + `length`: the term
  // `holder` holds it in, or nullopt while another holder's lease runs. The term counts up each
  // time the lease changes hands; `holder` taking back its own lease that ran out keeps it.
  // InvalidArgument for an empty holder (or one over 200 octets) or a length under a millisecond.
  [[nodiscard]] absl::StatusOr<std::optional<int64_t>> HoldLease(std::string_view holder,
                                                                 absl::Duration length);

  // Ends `holder`'s lease now, so that another replica need not wait for it to run out (a clean
  // shutdown). Nothing changes when `holder` does not hold it.
  [[nodiscard]] absl::Status ReleaseLease(std::string_view holder);

  // Stores `crl` (a full CRL, or a delta when base_crl_number is set) as `ca_id`'s latest of its
  // kind. FailedPrecondition, storing nothing, unless `holder` holds the lease in `term` and it
  // has not run out (IsLeaseLost), or when a CRL of that kind with this number or a higher one
  // is stored already; InvalidArgument for a CRL without DER.
  [[nodiscard]] absl::Status Store(std::string_view holder, int64_t term, int32_t ca_id,
                                   const ca::BuiltCrl& crl);

  // The number of every stored CRL.
  [[nodiscard]] absl::StatusOr<std::vector<StoredCrlNumber>> Numbers();

  // `ca_id`'s latest stored CRL of a kind; NotFound when none is.
  [[nodiscard]] absl::StatusOr<ca::BuiltCrl> Read(int32_t ca_id, bool delta);

 private:
  ConnectionPool& pool_;
};

// Whether Store refused for want of the lease.
bool IsLeaseLost(const absl::Status& status);

}  // namespace keyline::store
