// Internal to store/: one statement made of data-modifying WITH clauses that several parts of
// store/ contribute, so that a transaction's writes cost one round trip instead of one each.
//
// Each round trip of the issuance writer costs PostgreSQL a protocol exchange, an executor start
// and a wake-up on both sides, about as much as a small statement's work: pgwatch under
// bench/enroll put the writer's backend at ~660 us per batch of ~3.3 enrollments, of which the
// statements' own execution was ~380 us. So the certificates, the enrollments' updates and the
// audit rows of a batch go in as one statement (store/issuance_batch.cc).
//
// A clause's body is written with its own parameters numbered from $1, as if it stood alone;
// With() renumbers them after those already added. The clauses cannot see each other's rows (one
// snapshot for the whole statement), which none of them needs: they write disjoint tables or
// rows, and the foreign keys among them are checked after the statement.
#pragma once

#include <pqxx/result>
#include <pqxx/transaction_base>
#include <string>
#include <string_view>
#include <vector>

#include "store/sql_text.h"

namespace keyline::store {

class ComposedStatement {
 public:
  // Adds `name AS (body)`, body's $1..$n standing for params[0..n-1]. `name` names the statement
  // too (Execute), so it must be one identifier, the same for the same body.
  void With(std::string_view name, std::string_view body, std::vector<std::string> params);

  bool empty() const { return clauses_.empty(); }

  // Runs the clauses, then `final_select` (a SELECT without parameters; "SELECT 1" if there is
  // nothing to read), as a named prepared statement "<prefix>:<clause names>": one prefix must
  // always come with the same final_select (libpqxx refuses a name redefined with other SQL).
  // Throws what libpqxx throws.
  pqxx::result Execute(pqxx::transaction_base& transaction, std::string_view prefix,
                       std::string_view final_select) const;

  // The statement's text and name as Execute would run them (for tests and EXPLAIN).
  std::string Sql(std::string_view final_select) const;
  std::string Name(std::string_view prefix) const;

 private:
  std::vector<std::string> clauses_;  // "name AS (body)", renumbered
  std::vector<std::string> names_;
  SqlParams params_;
};

// `sql` with every parameter reference $n (outside quoted literals and identifiers) raised by
// `offset`.
std::string RenumberParams(std::string_view sql, size_t offset);

}  // namespace keyline::store
