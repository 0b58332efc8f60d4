// Whether an operator (role, name) was ever registered: the operators table keeps every one that
// got a certificate, whoever issued it.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "store/connection_pool.h"

namespace keyline::store {

[[nodiscard]] absl::StatusOr<bool> OperatorExists(ConnectionPool& pool, std::string_view role,
                                                  std::string_view name);

}  // namespace keyline::store
