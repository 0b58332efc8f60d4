#include "store/store_errors.h"

#include <exception>
#include <new>
#include <pqxx/except>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace keyline::store {
namespace {

// The first line of a libpq/server message, without its "ERROR:  " / "FATAL:  " severity prefix.
std::string_view PrimaryLine(std::string_view message) {
  message = message.substr(0, message.find('\n'));
  if (const size_t colon = message.find(":  "); colon != std::string_view::npos && colon < 10) {
    message.remove_prefix(colon + 3);
  }
  return message;
}

// Classes whose primary messages name schema objects or describe the condition, never values:
// integrity constraints (23), privileges and schema (42), transaction rollback (40), connection
// (08), operator intervention (57), resources (53), object state (55), transaction state (25) and
// PL/pgSQL raises (P0, used by our own triggers). Data exceptions (22) quote their input.
bool PrimaryMessageIsSafe(std::string_view sqlstate) {
  static constexpr std::string_view kSafeClasses[] = {"23", "42", "40", "08", "57",
                                                      "53", "55", "25", "P0"};
  for (std::string_view safe : kSafeClasses) {
    if (sqlstate.starts_with(safe)) return true;
  }
  return false;
}

absl::StatusCode CodeForSqlState(std::string_view sqlstate) {
  if (sqlstate == "23505") return absl::StatusCode::kAlreadyExists;
  if (sqlstate.starts_with("23")) return absl::StatusCode::kFailedPrecondition;
  if (sqlstate == "42501") return absl::StatusCode::kPermissionDenied;
  // A schema that lacks a table or column is a deployment out of step with the binary.
  if (sqlstate == "42P01" || sqlstate == "42703") return absl::StatusCode::kFailedPrecondition;
  if (sqlstate.starts_with("40")) return absl::StatusCode::kAborted;
  if (sqlstate == "55P03") return absl::StatusCode::kAborted;  // lock_not_available
  if (sqlstate.starts_with("08") || sqlstate.starts_with("57") || sqlstate.starts_with("53")) {
    return absl::StatusCode::kUnavailable;
  }
  if (sqlstate == "25006") return absl::StatusCode::kUnavailable;  // read-only (a standby)
  if (sqlstate.starts_with("22")) return absl::StatusCode::kInvalidArgument;
  return absl::StatusCode::kInternal;
}

// libpqxx 6.4 throws a subclass per SQLSTATE but leaves sqlstate() empty for some of them
// (insufficient_privilege, for one); the class then says what the SQLSTATE was, at least to its
// class, which is all the mapping needs.
std::string SqlStateOf(const pqxx::sql_error& error) {
  if (!error.sqlstate().empty()) return error.sqlstate();
  const struct {
    bool matches;
    const char* sqlstate;
  } kinds[] = {
      {dynamic_cast<const pqxx::unique_violation*>(&error) != nullptr, "23505"},
      {dynamic_cast<const pqxx::foreign_key_violation*>(&error) != nullptr, "23503"},
      {dynamic_cast<const pqxx::check_violation*>(&error) != nullptr, "23514"},
      {dynamic_cast<const pqxx::not_null_violation*>(&error) != nullptr, "23502"},
      {dynamic_cast<const pqxx::restrict_violation*>(&error) != nullptr, "23001"},
      {dynamic_cast<const pqxx::integrity_constraint_violation*>(&error) != nullptr, "23000"},
      {dynamic_cast<const pqxx::insufficient_privilege*>(&error) != nullptr, "42501"},
      {dynamic_cast<const pqxx::undefined_table*>(&error) != nullptr, "42P01"},
      {dynamic_cast<const pqxx::undefined_column*>(&error) != nullptr, "42703"},
      {dynamic_cast<const pqxx::undefined_function*>(&error) != nullptr, "42883"},
      {dynamic_cast<const pqxx::syntax_error*>(&error) != nullptr, "42601"},
      {dynamic_cast<const pqxx::data_exception*>(&error) != nullptr, "22000"},
      {dynamic_cast<const pqxx::disk_full*>(&error) != nullptr, "53100"},
      {dynamic_cast<const pqxx::out_of_memory*>(&error) != nullptr, "53200"},
      {dynamic_cast<const pqxx::insufficient_resources*>(&error) != nullptr, "53000"},
      {dynamic_cast<const pqxx::plpgsql_raise*>(&error) != nullptr, "P0001"},
  };
  for (const auto& kind : kinds) {
    if (kind.matches) return kind.sqlstate;
  }
  return "";
}

absl::Status FromSqlError(const pqxx::sql_error& error, std::string_view context) {
  const std::string sqlstate = SqlStateOf(error);
  const absl::StatusCode code = CodeForSqlState(sqlstate);
  if (PrimaryMessageIsSafe(sqlstate)) {
    return absl::Status(code, absl::StrCat(AsAbsl(context), ": ", AsAbsl(PrimaryLine(error.what())),
                                           " (SQLSTATE ", sqlstate, ")"));
  }
  return absl::Status(code, absl::StrCat(AsAbsl(context), ": database error (SQLSTATE ",
                                         sqlstate.empty() ? "unknown" : sqlstate, ")"));
}

}  // namespace

absl::Status MapCurrentException(std::string_view context) {
  const absl::string_view what = AsAbsl(context);
  try {
    throw;
  } catch (const pqxx::in_doubt_error&) {
    return absl::UnknownError(absl::StrCat(
        what, ": connection lost during COMMIT; the transaction may or may not have committed"));
  } catch (const pqxx::broken_connection& error) {
    // libpq's connection messages name the host, port or socket and the reason, never a password.
    return absl::UnavailableError(
        absl::StrCat(what, ": database connection failed: ", AsAbsl(PrimaryLine(error.what()))));
  } catch (const pqxx::transaction_rollback&) {
    // Serialization failure, deadlock: the whole transaction may be retried.
    return absl::AbortedError(absl::StrCat(what, ": transaction rolled back by the database"));
  } catch (const pqxx::sql_error& error) {
    return FromSqlError(error, context);
  } catch (const pqxx::conversion_error&) {
    return absl::InternalError(absl::StrCat(what, ": a column had an unexpected value"));
  } catch (const pqxx::unexpected_rows&) {
    return absl::InternalError(absl::StrCat(what, ": unexpected number of rows"));
  } catch (const pqxx::usage_error&) {
    return absl::InternalError(absl::StrCat(what, ": libpqxx usage error"));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat(what, ": out of memory"));
  } catch (const std::exception&) {
    // what() of an arbitrary exception may quote data; keep it out of the status.
    return absl::InternalError(absl::StrCat(what, ": unexpected exception"));
  } catch (...) {
    return absl::InternalError(absl::StrCat(what, ": unexpected non-standard exception"));
  }
}

}  // namespace keyline::store
