#include "hsm/key_algorithm.h"

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace keyline::hsm {

std::string_view KeyAlgorithmName(KeyAlgorithm algorithm) {
  switch (algorithm) {
    case KeyAlgorithm::kEcdsaP256:
      return "ec-p256";
    case KeyAlgorithm::kEcdsaP384:
      return "ec-p384";
    default:
      return "unknown";
  }
}

absl::StatusOr<KeyAlgorithm> ParseKeyAlgorithm(std::string_view name) {
  if (name == "ec-p256") return KeyAlgorithm::kEcdsaP256;
  if (name == "ec-p384") return KeyAlgorithm::kEcdsaP384;
  return absl::InvalidArgumentError(
      absl::StrCat("key algorithm \"", AsAbsl(name), "\": expected ec-p256 or ec-p384"));
}

size_t DigestLength(KeyAlgorithm algorithm) {
  switch (algorithm) {
    case KeyAlgorithm::kEcdsaP256:
      return 32;
    case KeyAlgorithm::kEcdsaP384:
      return 48;
    default:
      return 0;
  }
}

}  // namespace keyline::hsm
