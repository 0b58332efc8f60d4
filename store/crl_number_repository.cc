#include "store/crl_number_repository.h"

#include <pqxx/result>

#include "store/prepared_statement.h"

namespace keyline::store {

absl::StatusOr<uint64_t> CrlNumberRepository::Next(int32_t ca_id) {
  return pool_.WithStatement(
      "take the next CRL number", [&](pqxx::nontransaction& tx) -> absl::StatusOr<uint64_t> {
        const pqxx::result rows = ExecPrepared(
            tx, "crl_numbers.next",
            "INSERT INTO crl_numbers (ca_id, last_number) VALUES ($1, 1) "
            "ON CONFLICT (ca_id) DO UPDATE SET last_number = crl_numbers.last_number + 1, "
            "updated_at = now() RETURNING last_number",
            ca_id);
        return rows[0][0].as<uint64_t>();
      });
}

}  // namespace keyline::store
