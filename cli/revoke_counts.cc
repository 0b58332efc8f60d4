#include "cli/revoke_counts.h"

namespace keyline::cli {

int64_t RevokedCount(const keyline::v1::RevokeResponse& response) {
  return response.has_revoked_count() ? response.revoked_count() : response.revoked_size();
}

std::map<std::string, int64_t> RevokedByIssuer(const keyline::v1::RevokeResponse& response) {
  if (response.has_revoked_count()) {
    return {response.revoked_by_issuer().begin(), response.revoked_by_issuer().end()};
  }
  std::map<std::string, int64_t> counts;
  for (const auto& revoked : response.revoked()) ++counts[revoked.issuer()];
  return counts;
}

int64_t UnlistedCount(const keyline::v1::RevokeResponse& response) {
  return RevokedCount(response) - response.revoked_size();
}

}  // namespace keyline::cli
