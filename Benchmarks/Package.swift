// swift-tools-version:6.1
import PackageDescription

/// Settings every target turns on, as in the root package.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

// A package of its own, so benchmark-only dependencies never reach the root package's build.
// `sqlite-layers` does not depend on the root package; `store-figures` and `fluent-drivers` measure it.
let package = Package(
    name: "TenantedBenchmarks",
    platforms: [.macOS(.v15)],  // the root package's minimum, needed to depend on it
    products: [
        .executable(name: "sqlite-layers", targets: ["SQLiteLayers"]),
        .executable(name: "store-figures", targets: ["StoreFigures"]),
        .executable(name: "fluent-drivers", targets: ["FluentDrivers"]),
        .executable(name: "http-notes", targets: ["HTTPNotes"]),
        .executable(name: "postgres-figures", targets: ["PostgresFigures"]),
        .executable(name: "mysql-figures", targets: ["MySQLFigures"]),
        .executable(name: "admin-figures", targets: ["AdminFigures"]),
    ],
    dependencies: [
        .package(name: "tenanted", path: "../"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/fluent-kit.git", from: "1.57.0"),
        .package(url: "https://github.com/vapor/fluent-sqlite-driver.git", from: "4.9.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.3"),
        .package(url: "https://github.com/vapor/fluent.git", from: "4.13.0"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver.git", from: "2.14.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
    ],
    targets: [
        // What both executables share: timing, statistics, the schema, the command line, opening sqlite-nio.
        .target(
            name: "BenchmarkSupport",
            dependencies: [
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "SQLiteLayers",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // Counts every malloc of the process (glibc: the executable's malloc family replaces libc's
        // and forwards to `__libc_malloc`…), for allocations per routed query.
        .target(name: "AllocationCounter"),
        // The malloc heap in use (glibc's `mallinfo2`), for the memory per open pool; it replaces nothing.
        .target(name: "HeapUsage"),
        // The admin console's page times and weight over 100,000 SQLite tenants.
        .executableTarget(
            name: "AdminFigures",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Tenanted", package: "tenanted"),
                .product(name: "TenantedSQLite", package: "tenanted"),
                .product(name: "TenantedAdmin", package: "tenanted"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "StoreFigures",
            dependencies: [
                "BenchmarkSupport",
                "HeapUsage",
                .product(name: "Tenanted", package: "tenanted"),
                .product(name: "TenantedSQLite", package: "tenanted"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Tenanted's Fluent SQLite driver (`TenantedFluentSQLite`) against the stock FluentSQLiteDriver.
        .executableTarget(
            name: "FluentDrivers",
            dependencies: [
                "BenchmarkSupport",
                "AllocationCounter",
                .product(name: "Tenanted", package: "tenanted"),
                .product(name: "TenantedSQLite", package: "tenanted"),
                .product(name: "TenantedFluent", package: "tenanted"),
                .product(name: "TenantedFluentSQLite", package: "tenanted"),
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Workload 6: a demo's `GET /notes/:id` (the `tenanted-demo` or `tenanted-hummingbird-demo`
        // product of the root package, built by this package) against the same handler untenanted on
        // the same framework, under wrk on loopback.
        .executableTarget(
            name: "HTTPNotes",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Workload 7: the PostgreSQL stores (TENANTED_POSTGRES_URL) against postgres-nio on one connection.
        .executableTarget(
            name: "PostgresFigures",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Tenanted", package: "tenanted"),
                .product(name: "TenantedFluent", package: "tenanted"),
                .product(name: "TenantedPostgres", package: "tenanted"),
                .product(name: "TenantedFluentPostgres", package: "tenanted"),
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Workload 8: the MySQL store (TENANTED_MYSQL_URL) against the bare MariaDB client on one connection.
        .executableTarget(
            name: "MySQLFigures",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Tenanted", package: "tenanted"),
                .product(name: "TenantedFluent", package: "tenanted"),
                .product(name: "TenantedMySQL", package: "tenanted"),
                .product(name: "TenantedFluentMySQL", package: "tenanted"),
                .product(name: "MariaDBClient", package: "tenanted"),
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
