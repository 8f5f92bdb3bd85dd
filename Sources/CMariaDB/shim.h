// MariaDB Connector/C (Debian: libmariadb-dev), the client library under MariaDBClient.
#ifndef TENANTED_CMARIADB_SHIM_H
#define TENANTED_CMARIADB_SHIM_H
#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>
#endif
