// swift-tools-version:6.1
import PackageDescription

/// Settings every target turns on (see shared/STYLE.md).
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "tenanted",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Tenanted", targets: ["Tenanted"]),
        .library(name: "TenantedSQLite", targets: ["TenantedSQLite"]),
        .library(name: "TenantedFluent", targets: ["TenantedFluent"]),
        .library(name: "TenantedFluentSQLite", targets: ["TenantedFluentSQLite"]),
        .library(name: "TenantedVapor", targets: ["TenantedVapor"]),
        .library(name: "TenantedPostgres", targets: ["TenantedPostgres"]),
        .library(name: "TenantedFluentPostgres", targets: ["TenantedFluentPostgres"]),
        .library(name: "MariaDBClient", targets: ["MariaDBClient"]),
        .library(name: "TenantedMySQL", targets: ["TenantedMySQL"]),
        .library(name: "TenantedFluentMySQL", targets: ["TenantedFluentMySQL"]),
        .library(name: "TenantedHummingbird", targets: ["TenantedHummingbird"]),
        .library(name: "TenantedTesting", targets: ["TenantedTesting"]),
        .library(name: "TenantedAdmin", targets: ["TenantedAdmin"]),
        .executable(name: "tenanted-demo", targets: ["TenantedDemo"]),
        .executable(name: "tenanted-hummingbird-demo", targets: ["TenantedHummingbirdDemo"]),
    ],
    traits: [
        .trait(
            name: "SQLite",
            description: "TenantedVapor re-exports the embedded SQLite store (TenantedSQLite) and its Fluent driver (TenantedFluentSQLite), so `import TenantedVapor` is all the README's tutorial needs. An app on PostgreSQL only can turn it off (`traits: []` on its dependency) and links no SQLite."
        ),
        .default(enabledTraits: ["SQLite"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/vapor/fluent-kit.git", from: "1.57.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.3"),
        .package(url: "https://github.com/vapor/fluent.git", from: "4.13.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/vapor/postgres-kit.git", from: "2.17.0"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver.git", from: "2.14.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        // The admin console's session signatures (HMAC-SHA256); Vapor already depends on it.
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        // No traits: the wing needs neither swift-configuration nor full Foundation.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        // Tests only: the stock driver serves the shared (untenanted) database in the Fluent tests.
        .package(url: "https://github.com/vapor/fluent-sqlite-driver.git", from: "4.9.0"),
    ],
    targets: [
        // The admin console: neutral pages and actions over a Tenancy; the wings mount it.
        .target(
            name: "TenantedAdmin",
            dependencies: [
                "Tenanted",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Core: no web framework, no ORM, no database driver.
        .target(
            name: "Tenanted",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "TenantedSQLite",
            dependencies: [
                "Tenanted",
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strictSettings
        ),
        // Fluent routing, per-tenant migrations, record helpers. Knows no store: each store's Fluent
        // adapter is a target of its own.
        .target(
            name: "TenantedFluent",
            dependencies: [
                "Tenanted",
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Tenanted's Fluent driver over the SQLite store's pools.
        .target(
            name: "TenantedFluentSQLite",
            dependencies: [
                "Tenanted", "TenantedFluent", "TenantedSQLite",
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "FluentSQL", package: "fluent-kit"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Vapor: middleware and resolvers, request API, websockets, the `tenants` commands; re-exports
        // Tenanted, TenantedFluent and TenantedSQLite.
        .target(
            name: "TenantedVapor",
            dependencies: [
                "TenantedAdmin",
                // With the default trait SQLite, TenantedVapor re-exports the embedded store and its Fluent
                // driver (Exports.swift), so the tutorial needs one product. Without it, no SQLite is linked.
                "Tenanted", "TenantedFluent",
                .target(name: "TenantedSQLite", condition: .when(traits: ["SQLite"])),
                .target(name: "TenantedFluentSQLite", condition: .when(traits: ["SQLite"])),
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // PostgreSQL stores (database per tenant, schema per tenant), placement over several servers,
        // moving a tenant. Knows no ORM.
        .target(
            name: "TenantedPostgres",
            dependencies: [
                "Tenanted",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // The PostgreSQL stores' Fluent adapter: the stock FluentPostgresDriver over each pool's client.
        .target(
            name: "TenantedFluentPostgres",
            dependencies: [
                "Tenanted", "TenantedFluent", "TenantedPostgres",
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // MariaDB Connector/C (Debian: libmariadb-dev), the C library under MariaDBClient.
        .systemLibrary(
            name: "CMariaDB",
            pkgConfig: "libmariadb",
            providers: [.apt(["libmariadb-dev"])]
        ),
        // A MySQL / MariaDB client over Connector/C: blocking calls on a thread pool, async API,
        // prepared statements, typed rows. Knows no Tenanted.
        .target(
            name: "MariaDBClient",
            dependencies: [
                "CMariaDB",
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // The MySQL / MariaDB store: a database per tenant. Knows no ORM.
        .target(
            name: "TenantedMySQL",
            dependencies: [
                "Tenanted", "MariaDBClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Hummingbird: request context, middleware, typed pool access, websockets, the `tenants`
        // commands (swift-argument-parser), the tenancy as a ServiceLifecycle service. No Fluent.
        .target(
            name: "TenantedHummingbird",
            dependencies: [
                "TenantedAdmin",
                "Tenanted",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // The MySQL store's Fluent adapter: an SQLKit dialect and FluentSQL's converters over the client.
        .target(
            name: "TenantedFluentMySQL",
            dependencies: [
                "Tenanted", "TenantedFluent", "TenantedMySQL", "MariaDBClient",
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "FluentSQL", package: "fluent-kit"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // What the two demos share and no framework owns: their environment and the stores it names.
        .target(
            name: "TenantedDemoSupport",
            dependencies: [
                "Tenanted", "TenantedSQLite", "TenantedPostgres", "TenantedMySQL", "TenantedAdmin",
            ],
            swiftSettings: strictSettings
        ),
        // The runnable example on Hummingbird: `swift run tenanted-hummingbird-demo`, the same
        // interface as `tenanted-demo`.
        .executableTarget(
            name: "TenantedHummingbirdDemo",
            dependencies: [
                "Tenanted", "TenantedSQLite", "TenantedPostgres", "TenantedMySQL", "MariaDBClient", "TenantedHummingbird", "TenantedDemoSupport",
                "TenantedAdmin",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Swift Testing traits for users' own tests: a throwaway tenancy per suite, a tenant per test.
        .target(
            name: "TenantedTesting",
            dependencies: ["Tenanted"],
            swiftSettings: strictSettings
        ),
        // The runnable example: `swift run tenanted-demo`.
        .executableTarget(
            name: "TenantedDemo",
            dependencies: [
                "Tenanted", "TenantedSQLite", "TenantedFluent", "TenantedFluentSQLite", "TenantedVapor", "TenantedPostgres",
                "TenantedFluentPostgres", "TenantedMySQL", "TenantedFluentMySQL", "TenantedDemoSupport", "TenantedAdmin",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Helpers shared by the test targets (temporary directories, gates, timeouts); not a product.
        .target(
            name: "TenantedTestSupport",
            dependencies: ["Tenanted", .product(name: "Logging", package: "swift-log")],
            path: "Tests/TestSupport",
            swiftSettings: strictSettings
        ),
        // The store conformance suite every store passes (SQLite, PostgreSQL database and schema per tenant).
        .target(
            name: "TenantedStoreConformance",
            dependencies: [
                "Tenanted", "TenantedFluent", "TenantedTestSupport",
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/StoreConformance",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "TenantedTests",
            dependencies: [
                "Tenanted", "TenantedTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "TenantedSQLiteTests",
            dependencies: [
                "Tenanted", "TenantedSQLite", "TenantedTestSupport", "TenantedTesting",
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "TenantedFluentTests",
            dependencies: [
                "Tenanted", "TenantedSQLite", "TenantedFluent", "TenantedFluentSQLite", "TenantedTestSupport", "TenantedStoreConformance",
                "TenantedTesting",
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "FluentSQL", package: "fluent-kit"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "TenantedPostgresTests",
            dependencies: [
                "Tenanted", "TenantedFluent", "TenantedPostgres", "TenantedFluentPostgres", "TenantedTestSupport", "TenantedStoreConformance",
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "TenantedMySQLTests",
            dependencies: [
                "Tenanted", "TenantedFluent", "TenantedMySQL", "TenantedFluentMySQL", "MariaDBClient", "TenantedTestSupport",
                "TenantedStoreConformance",
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "TenantedVaporTests",
            dependencies: [
                "Tenanted", "TenantedSQLite", "TenantedFluent", "TenantedFluentSQLite", "TenantedVapor", "TenantedDemo", "TenantedTestSupport",
                "TenantedTesting", "TenantedAdmin",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "VaporTesting", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Both demo executables as real processes: one HTTP suite and one command suite, one interface.
        .testTarget(
            name: "TenantedAdminTests",
            dependencies: [
                "Tenanted", "TenantedAdmin", "TenantedSQLite", "TenantedTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "TenantedDemoTests",
            dependencies: ["Tenanted", "TenantedTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "TenantedHummingbirdTests",
            dependencies: [
                "Tenanted", "TenantedSQLite", "TenantedHummingbird", "TenantedTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSTesting", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
