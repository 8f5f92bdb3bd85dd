import Synchronization

/// Messages for the live connections of one tenant at a time: websockets, server-sent events.
///
/// A connection subscribes in its tenant and gets a stream of that tenant's messages; a message
/// published in tenant A reaches only connections that subscribed in A. ``close(_:)`` ends every
/// stream of a tenant (its connections then close): a wing calls it when the tenant is destroyed.
///
/// ```swift
/// let broadcaster = TenantBroadcaster<String>()
/// // the websocket handler, in the request's tenant:
/// for await message in try broadcaster.subscribe() { try await socket.send(message) }
/// // anywhere in the same tenant:
/// try broadcaster.publish("note 7 created")
/// ```
///
/// Delivery never waits for a slow connection: each subscription buffers the newest
/// `bufferingNewest` messages and drops older ones it could not send in time.
public final class TenantBroadcaster<Message: Sendable>: Sendable {
    private struct Subscribers {
        var byTenant: [TenantID: [Int: AsyncStream<Message>.Continuation]] = [:]
        var nextID = 0
    }

    private let state = Mutex(Subscribers())
    private let buffering: Int

    /// A broadcaster whose subscriptions each keep at most `bufferingNewest` undelivered messages.
    public init(bufferingNewest: Int = 64) {
        self.buffering = max(1, bufferingNewest)
    }

    /// Subscribes to the current tenant's messages; the stream ends when the tenant is closed
    /// (``close(_:)``) and the subscription ends when the stream's consumer stops iterating.
    /// - Throws: ``TenantedError/Code/noTenant`` outside every tenant scope.
    public func subscribe() throws(TenantedError) -> AsyncStream<Message> {
        subscribe(to: try Tenant.require())
    }

    /// Subscribes to `tenant`'s messages.
    public func subscribe(to tenant: TenantID) -> AsyncStream<Message> {
        let (stream, continuation) = AsyncStream<Message>.makeStream(bufferingPolicy: .bufferingNewest(buffering))
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            state.byTenant[tenant, default: [:]][state.nextID] = continuation
            return state.nextID
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { state in
                state.byTenant[tenant]?[id] = nil
                if state.byTenant[tenant]?.isEmpty == true { state.byTenant[tenant] = nil }
            }
        }
        return stream
    }

    /// Sends `message` to every subscription of the current tenant; returns how many there were.
    /// - Throws: ``TenantedError/Code/noTenant`` outside every tenant scope.
    @discardableResult
    public func publish(_ message: Message) throws(TenantedError) -> Int {
        publish(message, to: try Tenant.require())
    }

    /// Sends `message` to every subscription of `tenant`; returns how many there were.
    @discardableResult
    public func publish(_ message: Message, to tenant: TenantID) -> Int {
        let continuations = state.withLock { Array(($0.byTenant[tenant] ?? [:]).values) }
        for continuation in continuations { continuation.yield(message) }
        return continuations.count
    }

    /// Ends every subscription of `tenant` (its connections close); returns how many there were.
    @discardableResult
    public func close(_ tenant: TenantID) -> Int {
        let continuations = state.withLock { $0.byTenant.removeValue(forKey: tenant).map { Array($0.values) } ?? [] }
        for continuation in continuations { continuation.finish() }
        return continuations.count
    }

    /// The number of live subscriptions of `tenant`.
    public func subscriberCount(of tenant: TenantID) -> Int {
        state.withLock { $0.byTenant[tenant]?.count ?? 0 }
    }

    /// Closes a tenant's subscriptions when `hooks`' tenancy starts destroying it: a socket handler
    /// that holds the tenant's scope for the socket's life then ends, so the destroy is not held up.
    public func closeOnDestroy(_ hooks: inout TenancyHooks) {
        hooks.beforeDestroy { [weak self] tenant in self?.close(tenant) }
    }
}
