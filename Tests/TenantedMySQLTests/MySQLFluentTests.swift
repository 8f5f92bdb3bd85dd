import FluentKit
import Foundation
import SQLKit
import Tenanted
import TenantedFluent
import TenantedFluentMySQL
import TenantedMySQL
import TenantedTestSupport
import Testing

/// Fluent models on the MySQL adapter, against the real server: what FluentSQL's converters and
/// the dialect must get right on MySQL (AUTO_INCREMENT IDs without RETURNING, UUIDs in BINARY(16),
/// dates, enums, optionals, JSON, joins, eager loading, aggregates, constraint errors, rollbacks).
@Suite(.enabled(if: MySQLTestServer.url != nil, MySQLTestServer.unsetReason))
struct MySQLFluentTests {
    private func withShop(_ body: (FluentShop) async throws -> Void) async throws {
        let stores = MySQLTestStores()
        let shop = try FluentShop(store: stores.makeStore())
        try await withTeardown {
            try await shop.tenancy.createTenant(.shop)
            try await shop.tenancy.withTenant(.shop) { try await body(shop) }
        } teardown: {
            await shop.shutdown()
            await stores.cleanUp()
        }
    }

    @Test func autoIncrementIDsAreReadBack() async throws {
        try await withShop { shop in
            let first = Customer(name: "Ada", tier: .gold)
            try await first.create(on: shop.db())
            let second = Customer(name: "Grace", tier: .silver)
            try await second.create(on: shop.db())
            let firstID = try #require(first.id), secondID = try #require(second.id)
            #expect(secondID == firstID + 1)
            let found = try #require(try await Customer.find(secondID, on: shop.db()))
            #expect(found.name == "Grace" && found.tier == .silver)
            #expect(found.createdAt != nil)
        }
    }

    @Test func uuidsDatesOptionalsAndJSONRoundTrip() async throws {
        try await withShop { shop in
            let customer = Customer(name: "Ada", tier: .gold)
            try await customer.create(on: shop.db())
            let due = Date(timeIntervalSince1970: 1_750_000_000.25)
            let order = Order(customerID: try customer.requireID(), total: Decimal(string: "19.99")!, due: due, note: nil,
                              details: ["gift": "yes", "wrap": "red"])
            try await order.create(on: shop.db())
            let loaded = try #require(try await Order.find(order.id, on: shop.db()))
            #expect(loaded.id == order.id)
            #expect(loaded.total == Decimal(string: "19.99"))
            #expect(abs(loaded.due.timeIntervalSince1970 - due.timeIntervalSince1970) < 0.000_002)
            #expect(loaded.note == nil)
            #expect(loaded.details == ["gift": "yes", "wrap": "red"])
            loaded.note = "leave at the door"
            try await loaded.save(on: shop.db())
            #expect(try await Order.find(order.id, on: shop.db())?.note == "leave at the door")
        }
    }

    @Test func filtersJoinsEagerLoadingAndAggregates() async throws {
        try await withShop { shop in
            let ada = Customer(name: "Ada", tier: .gold), bob = Customer(name: "Bob", tier: .silver)
            try await ada.create(on: shop.db())
            try await bob.create(on: shop.db())
            for (customer, total) in [(ada, "10.00"), (ada, "5.50"), (bob, "7.25")] {
                try await Order(customerID: try customer.requireID(), total: Decimal(string: total)!, due: Date(), note: nil, details: [:])
                    .create(on: shop.db())
            }
            #expect(try await Order.query(on: shop.db()).count() == 3)
            #expect(try await Order.query(on: shop.db()).sum(\.$total) == Decimal(string: "22.75"))
            let golds = try await Order.query(on: shop.db()).join(Customer.self, on: \Order.$customer.$id == \Customer.$id)
                .filter(Customer.self, \.$tier == .gold).all()
            #expect(golds.count == 2)
            #expect(try golds.map { try $0.joined(Customer.self).name } == ["Ada", "Ada"])
            let withOrders = try await Customer.query(on: shop.db()).with(\.$orders).sort(\.$name).all()
            #expect(withOrders.map(\.name) == ["Ada", "Bob"])
            #expect(withOrders.map(\.orders.count) == [2, 1])
            let page = try await Customer.query(on: shop.db()).sort(\.$name, .descending).range(1..<2).all()
            #expect(page.map(\.name) == ["Ada"])
            try await Order.query(on: shop.db()).filter(\.$total < Decimal(6)).delete()
            #expect(try await Order.query(on: shop.db()).count() == 2)
        }
    }

    @Test func aUniqueViolationIsAConstraintErrorAndARollbackUndoesRows() async throws {
        try await withShop { shop in
            try await Customer(name: "Ada", tier: .gold).create(on: shop.db())
            let duplicate = await #expect(throws: (any Error).self) { try await Customer(name: "Ada", tier: .silver).create(on: shop.db()) }
            #expect((duplicate as? any DatabaseError)?.isConstraintFailure == true, "\(String(describing: duplicate))")
            await #expect(throws: ConformanceRollback.self) {
                try await shop.db().transaction { database in
                    try await Customer(name: "Zed", tier: .silver).create(on: database)
                    throw ConformanceRollback()
                }
            }
            #expect(try await Customer.query(on: shop.db()).all().map(\.name) == ["Ada"])
            try await shop.db().transaction { database in
                try await Customer(name: "Kept", tier: .silver).create(on: database)
            }
            #expect(try await Customer.query(on: shop.db()).count() == 2)
        }
    }
}

private struct ConformanceRollback: Error {}

extension TenantID {
    static let shop = try! TenantID("shop")
}

/// A tenancy whose tenants hold customers and orders, reached through the routing database.
final class FluentShop: Sendable {
    let tenancy: Tenancy
    let store: MySQLStore
    let databases: Databases

    init(store: MySQLStore) throws {
        self.store = store
        let migrations = TenantMigrations()
        migrations.add(CreateShop())
        tenancy = try Tenancy(store: store, migrations: migrations, logger: .silent)
        databases = Databases(threadPool: .singleton, on: store.eventLoopGroup)
        databases.use(.tenanted(tenancy), as: .tenanted, isDefault: true)
    }

    func db() -> any Database {
        databases.database(logger: .silent, on: store.eventLoopGroup.any())!
    }

    func shutdown() async {
        await databases.shutdownAsync()
        await tenancy.shutdown()
    }
}

enum Tier: String, Codable, CaseIterable, Sendable {
    case gold, silver
}

final class Customer: Model, @unchecked Sendable {
    static let schema = "customers"

    @ID(custom: .id) var id: Int?
    @Field(key: "name") var name: String
    @Enum(key: "tier") var tier: Tier
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Children(for: \.$customer) var orders: [Order]

    init() {}

    init(name: String, tier: Tier) {
        self.name = name
        self.tier = tier
    }
}

final class Order: Model, @unchecked Sendable {
    static let schema = "orders"

    @ID(key: .id) var id: UUID?
    @Parent(key: "customer_id") var customer: Customer
    @Field(key: "total") var total: Decimal
    @Field(key: "due") var due: Date
    @OptionalField(key: "note") var note: String?
    @Field(key: "details") var details: [String: String]

    init() {}

    init(customerID: Int, total: Decimal, due: Date, note: String?, details: [String: String]) {
        self.$customer.id = customerID
        self.total = total
        self.due = due
        self.note = note
        self.details = details
    }
}

struct CreateShop: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let tier = try await database.enum("tier").case("gold").case("silver").create()
        try await database.schema(Customer.schema)
            .field(.id, .int64, .identifier(auto: true))
            .field("name", .string, .required)
            .field("tier", tier, .required)
            .field("created_at", .datetime)
            .unique(on: "name")
            .create()
        try await database.schema(Order.schema)
            .id()
            .field("customer_id", .int64, .required, .references(Customer.schema, .id))
            .field("total", .custom("DECIMAL(12,2)"), .required)
            .field("due", .datetime, .required)
            .field("note", .string)
            .field("details", .dictionary(of: .string), .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(Order.schema).delete()
        try await database.schema(Customer.schema).delete()
        try await database.enum("tier").delete()
    }
}
