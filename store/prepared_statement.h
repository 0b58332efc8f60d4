// Hot lookups as named prepared statements: PostgreSQL parses and plans them once per connection
// instead of on every call (parse and plan were ~40% of the database's CPU on the enrollment path
// with unnamed statements). libpqxx registers the definition on the connection and prepares it
// with the server on first use; redefining a name with the same SQL is a no-op.
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
