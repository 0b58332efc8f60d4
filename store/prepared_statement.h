// Hot lookups as named prepared statements: PostgreSQL parses and plans them once per connection
// instead of on every call (parse and plan were ~40% of the database's CPU on the enrollment path
// with unnamed statements). libpqxx registers the definition on the connection and prepares it
// with the server on first use; redefining a name with the same SQL is a no-op.
//
// Not, on an ordinary connection, for statements whose best plan depends on how big a table has
// grown, such as look-ups by `= ANY ($1::bytea[])`: after five runs PostgreSQL may keep a generic
// plan costed while the table was small, a sequential scan. Preparing the issuance writer's
// challenge lock did that: 10x its execution time once bench/enroll had made some thousand
// challenges. The writer's statements are prepared now, on a connection where sequential scans
// are off (UseKeyLookupPlans in store/connection_pool.h).
#pragma once

#include <pqxx/result>
#include <pqxx/transaction_base>
#include <string>
#include <utility>

namespace keyline::store {

template <typename... Args>
pqxx::result ExecPrepared(pqxx::transaction_base& transaction, const std::string& name,
                          const std::string& sql, Args&&... args) {
  transaction.conn().prepare(name, sql);
  return transaction.exec_prepared(name, std::forward<Args>(args)...);
}

}  // namespace keyline::store
