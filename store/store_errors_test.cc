#include "store/store_errors.h"

#include <gtest/gtest.h>

#include <pqxx/except>

namespace keyline::store {
namespace {

template <typename Exception>
absl::Status Map(const Exception& exception) {
  try {
    throw exception;
  } catch (...) {
    return MapCurrentException("test op");
  }
}

TEST(StoreErrorsTest, MapsSqlStatesToCanonicalCodes) {
  const struct {
    const char* sqlstate;
    absl::StatusCode code;
  } cases[] = {
      {"23505", absl::StatusCode::kAlreadyExists},
      {"23503", absl::StatusCode::kFailedPrecondition},
      {"23514", absl::StatusCode::kFailedPrecondition},
      {"23502", absl::StatusCode::kFailedPrecondition},
      {"42501", absl::StatusCode::kPermissionDenied},
      {"40001", absl::StatusCode::kAborted},
      {"40P01", absl::StatusCode::kAborted},
      {"57P01", absl::StatusCode::kUnavailable},
      {"08006", absl::StatusCode::kUnavailable},
      {"22P02", absl::StatusCode::kInvalidArgument},
      {"XX000", absl::StatusCode::kInternal},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Map(pqxx::sql_error("ERROR:  something\n", "SELECT 1", c.sqlstate)).code(), c.code)
        << c.sqlstate;
  }
}

TEST(StoreErrorsTest, MapsLibpqxxExceptionTypes) {
  EXPECT_EQ(Map(pqxx::broken_connection("connection refused")).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(Map(pqxx::in_doubt_error("lost")).code(), absl::StatusCode::kUnknown);
  EXPECT_EQ(Map(pqxx::unique_violation("ERROR:  dup\n", "", "23505")).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Map(pqxx::insufficient_privilege("ERROR:  denied\n", "", "42501")).code(),
            absl::StatusCode::kPermissionDenied);
  // libpqxx 6.4 leaves sqlstate() empty for some subclasses; the class still decides.
  EXPECT_EQ(Map(pqxx::insufficient_privilege("ERROR:  denied\n")).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Map(pqxx::foreign_key_violation("ERROR:  fk\n")).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Map(pqxx::serialization_failure("ERROR:  could not serialize\n")).code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(Map(pqxx::deadlock_detected("ERROR:  deadlock\n")).code(), absl::StatusCode::kAborted);
  EXPECT_EQ(Map(pqxx::conversion_error("Could not convert 'secret'")).code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(Map(std::runtime_error("x")).code(), absl::StatusCode::kInternal);
  EXPECT_EQ(Map(42).code(), absl::StatusCode::kInternal);
}

TEST(StoreErrorsTest, MessagesKeepTheOperationAndDropRowData) {
  const absl::Status unique = Map(pqxx::unique_violation(
      "ERROR:  duplicate key value violates unique constraint \"certificates_pkey\"\n"
      "DETAIL:  Key (serial)=(\\x0badc0de) already exists.\n",
      "INSERT ...", "23505"));
  EXPECT_EQ(unique.message(),
            "test op: duplicate key value violates unique constraint \"certificates_pkey\" "
            "(SQLSTATE 23505)");

  const absl::Status data = Map(pqxx::data_exception(
      "ERROR:  invalid input syntax for type integer: \"4111-1111\"\n", "", "22P02"));
  EXPECT_EQ(data.message().find("4111"), absl::string_view::npos) << data.message();
  EXPECT_NE(data.message().find("22P02"), absl::string_view::npos);

  const absl::Status conversion = Map(pqxx::conversion_error("Could not convert 'secret'"));
  EXPECT_EQ(conversion.message().find("secret"), absl::string_view::npos);
}

}  // namespace
}  // namespace keyline::store
