#include "store/operator_lookup.h"

#include <string>

namespace keyline::store {

absl::StatusOr<bool> OperatorExists(ConnectionPool& pool, std::string_view role,
                                    std::string_view name) {
  return pool.WithTransaction("look up an operator", [&](pqxx::work& tx) -> absl::StatusOr<bool> {
    return tx
        .exec_params1("SELECT EXISTS (SELECT 1 FROM operators WHERE role = $1 AND name = $2)",
                      std::string(role), std::string(name))[0]
        .as<bool>();
  });
}

}  // namespace keyline::store
